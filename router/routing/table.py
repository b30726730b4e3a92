"""Model names to ordered upstream targets.

Resolution: the first ``routes`` entry whose pattern matches the model wins and its
providers are tried in order; otherwise every provider that lists the model (by name or
alias) in its ``models``, in config order; otherwise the first pattern route (AI Studio's
``model-pattern``) that matches, which serves the model under its own name. Within a
provider an alias becomes the upstream model name; any other name is passed on
unchanged. Fallbacks (cto.new's and webai's ``fallback-for``) matching the model are
appended last, in that order.

A ``provider/model`` name pins one provider: when no route or model list names it
literally (a model really called ``org/model`` still wins), and ``provider`` is a
configured provider, that provider alone serves ``model`` (its aliases apply).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from router.config.cache import RouteCacheConfig
from router.config.schema import RouteConfig, compile_model_pattern
from router.routing.catalog import catalog
from router.upstreams.base import Upstream

# Model names remembered per table; clients choose them, so the memory is bounded.
_RESOLVED_MAX = 1024


@dataclass(frozen=True)
class Target:
    """One upstream that can serve a model, optionally pinned to one credential.

    ``cache``: the response cache of the route that named it (None: answers are not kept).
    """

    upstream: Upstream
    model: str
    credential: str | None = None
    cache: RouteCacheConfig | None = None


class ModelTable:
    """Answers "who serves model X?" for one config."""

    def __init__(
        self,
        upstreams: Sequence[Upstream],
        routes: Sequence[RouteConfig],
        fallbacks: Sequence[tuple[str, Upstream, str]] = (),
        patterns: Sequence[tuple[str, Upstream]] = (),
    ) -> None:
        """``fallbacks``: (model pattern, upstream, its model) tried after everything else.

        ``patterns``: (model pattern, upstream) for models no route or provider claims.
        """
        self._fallbacks = [(compile_model_pattern(p), u, m) for p, u, m in fallbacks]
        self._patterns = [(compile_model_pattern(p), u) for p, u in patterns]
        self._upstreams = {u.name: u for u in upstreams}
        self._order = list(upstreams)
        self._routes: list[tuple[re.Pattern[str], RouteConfig]] = [
            (route.compiled(), route) for route in routes
        ]
        self._aliases: dict[str, dict[str, str]] = {}
        self._resolved: dict[str, tuple[Target, ...]] = {}
        for upstream in upstreams:
            names: dict[str, str] = {}
            for entry in upstream.models:
                names[entry.name] = entry.name
                for alias in entry.aliases:
                    names[alias] = entry.name
            self._aliases[upstream.name] = names

    def resolve(self, model: str) -> list[Target]:
        """The targets for ``model``, in order (remembered: the table never changes, and
        the same few names come with every request)."""
        known = self._resolved.get(model)
        if known is None:
            if len(self._resolved) >= _RESOLVED_MAX:
                self._resolved.clear()
            known = self._resolved[model] = tuple(self._resolve(model))
        return list(known)

    def _resolve(self, model: str) -> list[Target]:
        targets = self._primary(model)
        for pattern, upstream, fallback_model in self._fallbacks:
            if pattern.fullmatch(model) and all(t.upstream is not upstream for t in targets):
                targets.append(Target(upstream, fallback_model))
        return targets

    def _primary(self, model: str) -> list[Target]:
        if "/" in model and not self._named_literally(model):
            pinned = self._pinned(model)
            if pinned:
                return pinned
        for pattern, route in self._routes:
            if pattern.fullmatch(model):
                targets = []
                for entry in route.providers:
                    name, _, credential = entry.partition("/")
                    upstream = self._upstreams.get(name)
                    if upstream is None:
                        continue
                    upstream_model = self._aliases[name].get(model, model)
                    targets.append(
                        Target(upstream, upstream_model, credential or None, route.cache)
                    )
                return targets
        listed = [
            Target(u, self._aliases[u.name][model])
            for u in self._order
            if model in self._aliases[u.name]
        ]
        if listed:
            return listed
        for pattern, upstream in self._patterns:
            if pattern.fullmatch(model):
                return [Target(upstream, model)]
        return []

    def _named_literally(self, model: str) -> bool:
        return any(route.model == model for _, route in self._routes) or any(
            model in names for names in self._aliases.values()
        )

    def _pinned(self, model: str) -> list[Target]:
        """``provider/model``: that provider only, or nothing when it is not a provider."""
        name, _, rest = model.partition("/")
        upstream = self._upstreams.get(name)
        if upstream is None or not rest:
            return []
        return [Target(upstream, self._aliases[name].get(rest, rest))]

    def model_ids(self, extra: Sequence[str] = ()) -> list[tuple[str, str]]:
        """Every (model id, provider) clients can ask for by exact name, aliases included.

        A subscription nobody has logged in to lists nothing; a pattern upstream that has
        credentials (a logged-in subscription, a connected AI Studio session) lists the
        catalog's names its pattern serves. ``extra``: more names (rules' targets), listed
        when they resolve.
        """
        listed: dict[str, str] = {}
        for upstream in self._order:
            if upstream.login_based and not upstream.credentials:
                continue
            for name in self._aliases[upstream.name]:
                listed.setdefault(name, upstream.name)
        for _, route in self._routes:
            if not route.model.startswith("re:") and not any(c in route.model for c in "*?["):
                listed.setdefault(route.model, route.providers[0].partition("/")[0])
        for pattern, upstream in self._patterns:
            if upstream.credentials:
                for name in catalog():
                    if pattern.fullmatch(name):
                        listed.setdefault(name, upstream.name)
        for name in extra:
            targets = [] if name in listed else self.resolve(name)
            if targets:
                listed[name] = targets[0].upstream.name
        return list(listed.items())
