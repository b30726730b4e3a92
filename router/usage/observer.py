"""The one place requests are observed: the middleware calls ``started`` when a request
arrives and ``finished`` with its log fields when it ends. Handlers know nothing of it.

A generation request (its fields carry ``stream``) feeds the metrics, the usage ledger
and the per-key usage that budgets are checked against. A token-count request (its
fields carry ``operation=count_tokens``) gets a ledger row of its own kind only: it
generates nothing, costs nothing and spends no budget.

A key's spend is added the moment its request ends (the next request is checked against
it). Metrics and ledger rows are made in batches: finished requests wait up to
``DRAIN_AFTER`` seconds (or until a ledger batch's worth waits) and are counted in one
loop, which costs less than as many scattered calls; whatever reads metrics or the
ledger calls ``drain`` first.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from router.config.schema import Config
from router.errors import ErrorKind, ProxyError
from router.logs import log_fields
from router.usage.collector import RuntimeCollector, ledger_families
from router.usage.keys import IssuedKey, KeyStore
from router.usage.ledger import COUNT_TOKENS, GENERATE, Ledger, Row
from router.usage.limits import KeyLimits
from router.usage.metrics import RequestMetrics
from router.usage.prices import Cost, PriceTable

if TYPE_CHECKING:
    from router.context import RequestContext
    from router.state import RouterState

log = logging.getLogger("router.usage")

FREE = Cost(0.0, 0.0)
UsageSink = Callable[[Mapping[str, object], Cost, float], None]
DRAIN_AFTER = 0.05
DRAIN_BATCH = 1024
# A finished generation request waiting to be counted: id, log fields, status, seconds
# it took, the wall-clock time it ended, and its cost when a key's spend needed it already.
Finished = tuple[str, Mapping[str, object], int, float, float, Cost | None]


class UsageObserver:
    def __init__(self, state: RouterState, config: Config) -> None:
        self._state = state
        self._active: dict[str, RequestContext] = {}
        self._known: tuple[object, frozenset[str]] = (None, frozenset())
        self._rules: tuple[object, frozenset[str]] = (None, frozenset())
        self.registry = CollectorRegistry(auto_describe=False)
        self.metrics = RequestMetrics(self.registry, self.known_models, self.known_rules)
        self.collector = RuntimeCollector(state, self)
        self.registry.register(self.collector)
        self.keys = KeyStore(config.usage.data_dir(config.auth_dir))
        self.limits = KeyLimits(shared=state.shared if state.role is not None else None)
        self.sinks: list[UsageSink] = [self.limits.record]
        self._waiting: list[Finished] = []
        self._drain_timer: asyncio.TimerHandle | None = None
        self.ledger: Ledger | None = None
        if config.usage.enabled:
            self.ledger = _open_ledger(config)
        # With several workers the parent (worker 0) alone starts from the ledger.
        if self.ledger is not None and state.shared.worker == 0:
            try:
                self.limits.seed_from_ledger(self.ledger.path)
            except sqlite3.Error as exc:
                log_fields(log, logging.ERROR, event="usage_budgets_unseeded", error=str(exc))
        self.configure(config)

    def configure(self, config: Config) -> None:
        """Take up a reloaded config (prices; the ledger's place needs a restart)."""
        self.config = config
        self.prices = PriceTable(config.usage.prices)

    def known_models(self) -> frozenset[str]:
        """Model names the current config serves by exact name: the only model labels."""
        runtime = self._state.runtime
        if self._known[0] is not runtime:
            names = {model for model, _ in runtime.table.model_ids()}
            names.update(r.model for r in runtime.config.routes if not _is_pattern(r.model))
            self._known = (runtime, frozenset(names))
        return self._known[1]

    def known_rules(self) -> frozenset[str]:
        """Names of the current config's routing rules: the only rule labels."""
        runtime = self._state.runtime
        if self._rules[0] is not runtime:
            self._rules = (runtime, frozenset(r.name for r in runtime.config.routing.rules))
        return self._rules[1]

    @property
    def in_flight(self) -> int:
        return len(self._active)

    def active_streams(self) -> int:
        return sum(1 for ctx in self._active.values() if ctx.log.get("stream") is True)

    def started(self, ctx: RequestContext) -> None:
        self._active[ctx.request_id] = ctx

    def finished(self, ctx: RequestContext, status: int) -> None:
        self._active.pop(ctx.request_id, None)
        fields = ctx.log
        if fields.get("operation") == COUNT_TOKENS:
            seconds = time.monotonic() - ctx.started
            if self.ledger is not None:
                self.ledger.add(ledger_row(ctx.request_id, fields, status, seconds, FREE))
            return
        if "stream" not in fields:
            key = fields.get("key")
            if status in (403, 429) and isinstance(key, str) and self.config.metrics.enabled:
                self.metrics.key_rejections.labels(key, str(status)).inc()
            return
        seconds = time.monotonic() - ctx.started
        cost = None
        if isinstance(fields.get("key"), str):
            cost = self._cost(fields, _tokens(fields))
            for sink in self.sinks:
                sink(fields, cost, seconds)
        self._waiting.append((ctx.request_id, fields, status, seconds, time.time(), cost))
        if len(self._waiting) >= self._room():
            self.drain()
        elif self._drain_timer is None:
            self._drain_timer = asyncio.get_running_loop().call_later(DRAIN_AFTER, self.drain)

    def _room(self) -> int:
        """Requests that may wait: never so many that they and the ledger's own queue
        hold more than one batch, so a kill -9 still loses at most ``flush-rows`` rows."""
        ledger = self.ledger
        if ledger is None:
            return DRAIN_BATCH
        return min(DRAIN_BATCH, ledger.config.flush_rows - ledger.queued)

    def drain(self) -> None:
        """Count the finished requests still waiting: their metrics and ledger rows."""
        if self._drain_timer is not None:
            self._drain_timer.cancel()
            self._drain_timer = None
        waiting, self._waiting = self._waiting, []
        record = self.metrics.record if self.config.metrics.enabled else None
        ledger = self.ledger
        for request_id, fields, status, seconds, ended, cost in waiting:
            if record is not None:
                record(fields, status, seconds)
            if ledger is not None:
                tokens = _tokens(fields)
                if cost is None:
                    cost = self._cost(fields, tokens)
                ledger.add(ledger_row(request_id, fields, status, seconds, cost, tokens, ended))

    def _cost(self, fields: Mapping[str, object], tokens: Mapping[str, int]) -> Cost:
        cost = self.prices.cost(
            str(fields.get("provider") or ""),
            str(fields.get("upstream_model") or fields.get("model") or ""),
            tokens,
        )
        if fields.get("cache") == "hit":
            # Answered from the response cache: nothing was spent upstream.
            return Cost(0.0 if cost.usd is not None else None, cost.api_equivalent_usd)
        return cost

    def admit_issued_key(self, presented: str | None, ctx: RequestContext) -> str | None:
        """The name of the issued key presented, once it may make this request (else the
        caller's 403 or 429 is raised); None when no issued key matches."""
        key = self.keys.find(presented)
        if key is None:
            return None
        ctx.log["key"] = key.name
        self.limits.admit(key)
        ctx.client_key = key
        return key.name

    def ledger_metrics(self) -> Iterator[Any]:
        if self.ledger is not None:
            yield from ledger_families(self.ledger.queued, self.ledger.written, self.ledger.dropped)

    def close(self) -> None:
        """Off the event loop, after ``drain`` on it: commits the ledger and stops it."""
        if self.ledger is not None:
            self.ledger.close()


def _open_ledger(config: Config) -> Ledger | None:
    """The ledger, or None (logged) when its file cannot be opened: usage accounting
    never stops the router from serving."""
    path = config.usage.ledger_path(config.auth_dir)
    try:
        return Ledger(path, config.usage)
    except (OSError, sqlite3.Error) as exc:
        log_fields(
            log, logging.ERROR, event="usage_ledger_unavailable", path=str(path), error=str(exc)
        )
        return None


def _is_pattern(model: str) -> bool:
    return model.startswith("re:") or any(c in model for c in "*?[")


def _tokens(fields: Mapping[str, object]) -> dict[str, int]:
    return {
        name: value
        for name in ("tokens_in", "tokens_out", "tokens_cached", "tokens_reasoning")
        if isinstance(value := fields.get(name), int)
    }


def ledger_row(
    request_id: str,
    fields: Mapping[str, object],
    status: int,
    seconds: float,
    cost: Cost,
    tokens: Mapping[str, int] | None = None,
    ended: float | None = None,
) -> Row:
    """``tokens``: ``_tokens(fields)`` when the caller has it already; ``ended``: when the
    request ended (``time.time()``), when that was not now."""
    if tokens is None:
        tokens = _tokens(fields)
    return (
        (time.time() if ended is None else ended) - seconds,
        request_id,
        fields.get("key"),
        fields.get("format"),
        fields.get("model"),
        fields.get("provider"),
        fields.get("credential"),
        fields.get("upstream_model"),
        1 if fields.get("stream") else 0,
        status,
        fields.get("error") or fields.get("stream_error"),
        tokens.get("tokens_in", 0),
        tokens.get("tokens_out", 0),
        tokens.get("tokens_cached", 0),
        tokens.get("tokens_reasoning", 0),
        cost.usd,
        cost.api_equivalent_usd,
        round(seconds * 1000, 1),
        fields.get("ttfb_ms"),
        fields.get("operation") or GENERATE,
    )


def check_key_model(ctx: RequestContext, model: str) -> None:
    """403 when the request's issued key may not use ``model``."""
    key: IssuedKey | None = ctx.client_key
    if key is not None and not key.allows_model(model):
        raise ProxyError(
            403,
            f"API key {key.name!r} may not use model {model!r} (allowed: {', '.join(key.models)})",
            ErrorKind.PERMISSION,
            param="model",
        )
