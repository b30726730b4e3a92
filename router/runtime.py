"""Everything built from one config: upstreams, model table, failover, client keys.

A SIGHUP builds a new Runtime beside the old one; requests already running keep the one
they started with, and the old one closes its connection pools when its last request ends.
Cooldowns and the AI Studio relay hub live outside so they survive reloads.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from router.clientauth import ClientKeys
from router.config import LoadedConfig
from router.credentials import CredentialStore
from router.formats import Format
from router.relay import RelayHub
from router.relay.workers import WorkerRelays
from router.routing.cooldown import Cooldowns
from router.routing.explain import explain
from router.routing.failover import Failover
from router.routing.response_cache import ResponseCache
from router.routing.rules import Rules
from router.routing.selector import Selector
from router.routing.sticky import StickySessions
from router.routing.table import ModelTable
from router.security.origin import OriginPolicy
from router.subscriptions.registry import Subscriptions
from router.upstreams.aistudio import AIStudioUpstream
from router.upstreams.base import Upstream
from router.upstreams.faults import MIB
from router.upstreams.registry import build_upstream
from router.upstreams.webai import WebAIUpstream

_PROVIDER_KEYS = re.compile(r"^providers\[(\d+)\]\.api-keys")


class Runtime:
    def __init__(
        self,
        loaded: LoadedConfig,
        cooldowns: Cooldowns,
        relay: RelayHub | WorkerRelays,
        credentials: CredentialStore,
    ) -> None:
        self.config = config = loaded.config
        unset_by_provider: dict[int, set[str]] = {}
        for path, variable in loaded.unset_env.items():
            match = _PROVIDER_KEYS.match(path)
            if match:
                unset_by_provider.setdefault(int(match.group(1)), set()).add(variable)
        self.upstreams: list[Upstream] = [
            build_upstream(
                p,
                config.timeouts,
                tuple(sorted(unset_by_provider.get(i, ()))),
                config.proxy_for(p.proxy_url),
            )
            for i, p in enumerate(config.providers)
            if p.enabled
        ]
        self.subscriptions = Subscriptions(config, credentials)
        self.upstreams += self.subscriptions.upstreams
        fallbacks = list(self.subscriptions.fallbacks)
        self.webai: WebAIUpstream | None = None
        if config.webai.enabled:
            self.webai = WebAIUpstream(config.webai, config.timeouts)
            self.upstreams.append(self.webai)
            fallbacks += [(p, self.webai, m) for p, m in config.webai.fallback_for.items()]
        # Registered whatever aistudio.enabled says: the Build applet can connect on its own.
        self.aistudio = AIStudioUpstream(config.aistudio, config.timeouts, relay)
        self.table = ModelTable(
            [*self.upstreams, self.aistudio],
            config.routes,
            fallbacks,
            patterns=[
                (config.aistudio.model_pattern, self.aistudio),
                *self.subscriptions.patterns,
            ],
        )
        self.rules = Rules(config.routing.rules)
        self.sticky = StickySessions(config.routing.sticky)
        self.selector = Selector(config.routing.strategy, cooldowns)
        self.failover = Failover(
            config.routing,
            self.selector,
            cooldowns,
            answer_limit=int(config.answer_limit_mb * MIB),
        )
        caches = [route.cache for route in config.routes if route.cache is not None]
        self.response_cache = (
            ResponseCache(caches, config.response_cache.max_mb) if caches else None
        )
        self.client_keys = ClientKeys(config.api_keys)
        self.origin_policy = OriginPolicy.from_config(config)
        self.body_limit = int(config.body_limit_mb * 1024 * 1024)
        self._in_flight = 0
        self._drained = asyncio.Event()
        self._drained.set()

    def acquire(self) -> None:
        self._in_flight += 1
        self._drained.clear()

    def release(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._drained.set()

    def explain(
        self,
        fmt: Format,
        model: str,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str],
        client_key: str | None,
    ) -> dict[str, Any]:
        """Where this config would send a request, without sending it (route explain)."""
        return explain(
            self.table,
            self.rules,
            self.sticky,
            self.selector,
            fmt,
            model,
            body,
            headers=headers,
            client_key=client_key,
        )

    async def retire(self) -> None:
        """Close pools once the requests that started on this runtime have finished."""
        await self._drained.wait()
        await self.close()

    async def close(self) -> None:
        for upstream in self.upstreams:
            await upstream.close()
        await self.aistudio.close()
