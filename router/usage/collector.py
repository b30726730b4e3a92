"""Gauges read from the router's live state when Prometheus scrapes, not per request:
in-flight requests and streams, cooldowns, subscription accounts, relay sessions,
sidecars and the ledger's queue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from router.state import RouterState
    from router.usage.observer import UsageObserver


class RuntimeCollector(Collector):
    def __init__(self, state: RouterState, observer: UsageObserver) -> None:
        self._state = state
        self._observer = observer
        # Filled by ``probe_sidecars`` just before each scrape (the probes are async).
        self.sidecars: dict[str, bool] = {}

    async def probe_sidecars(self) -> None:
        runtime = self._state.runtime
        found: dict[str, bool] = {}
        if runtime.webai is not None:
            found["webai"] = (await runtime.webai.probe())["status"] == "up"
        control = runtime.aistudio.control
        if control.enabled:
            found["aistudio"] = (await control.probe())["status"] == "up"
        self.sidecars = found

    def collect(self) -> Iterator[Any]:
        state, observer = self._state, self._observer
        runtime = state.runtime
        in_flight = GaugeMetricFamily(
            "cliproxy_in_flight_requests", "Requests being answered now.", value=observer.in_flight
        )
        streams = GaugeMetricFamily(
            "cliproxy_active_streams",
            "Generation streams being answered now.",
            value=observer.active_streams(),
        )
        yield in_flight
        yield streams
        upstreams = [*runtime.upstreams, runtime.aistudio]
        cooldowns = GaugeMetricFamily(
            "cliproxy_credential_cooldowns",
            "Credential and model pairs resting after a failure, per provider.",
            labels=["provider"],
        )
        accounts = GaugeMetricFamily(
            "cliproxy_accounts",
            "Subscription accounts by state (ok, expired, refresh_failing, login_required).",
            labels=["provider", "state"],
        )
        for upstream in upstreams:
            cooldowns.add_metric([upstream.name], len(state.cooldowns.active(upstream.name)))
            if upstream.login_based:
                counts: dict[str, int] = {}
                for account in upstream.accounts():
                    counts[account["state"]] = counts.get(account["state"], 0) + 1
                for account_state, count in sorted(counts.items()):
                    accounts.add_metric([upstream.name, account_state], count)
        yield cooldowns
        yield accounts
        yield GaugeMetricFamily(
            "cliproxy_relay_sessions",
            "AI Studio browser sessions connected to the relay hub.",
            value=len(state.relay.sessions()),
        )
        sidecars = GaugeMetricFamily(
            "cliproxy_sidecar_up",
            "1 when an enabled sidecar answers its health check.",
            labels=["sidecar"],
        )
        for name, up in sorted(self.sidecars.items()):
            sidecars.add_metric([name], 1.0 if up else 0.0)
        yield sidecars
        cache = runtime.response_cache
        if cache is not None:
            yield from response_cache_families(len(cache), cache.bytes, cache.evictions)
        yield from observer.ledger_metrics()


# (family, name, help) of the counts the response cache and the ledger keep themselves,
# in the order their functions below take the values.
_Families = tuple[tuple[type[GaugeMetricFamily | CounterMetricFamily], str, str], ...]
_CACHE_FAMILIES: _Families = (
    (GaugeMetricFamily, "cliproxy_response_cache_entries", "Answers held by the response cache."),
    (
        GaugeMetricFamily,
        "cliproxy_response_cache_bytes",
        "Bytes of answers held by the response cache.",
    ),
    (
        CounterMetricFamily,
        "cliproxy_response_cache_evictions",
        "Answers the response cache let go before their ttl to stay within its bounds.",
    ),
)
_LEDGER_FAMILIES: _Families = (
    (GaugeMetricFamily, "cliproxy_usage_rows_queued", "Ledger rows waiting to be written."),
    (CounterMetricFamily, "cliproxy_usage_rows_written", "Ledger rows written to SQLite."),
    (
        CounterMetricFamily,
        "cliproxy_usage_rows_dropped",
        "Ledger rows dropped because the write queue was full.",
    ),
)


def response_cache_families(entries: int, size: int, evictions: int) -> Iterator[Any]:
    return _families(_CACHE_FAMILIES, entries, size, evictions)


def ledger_families(queued: int, written: int, dropped: int) -> Iterator[Any]:
    return _families(_LEDGER_FAMILIES, queued, written, dropped)


def _families(table: _Families, *values: int) -> Iterator[Any]:
    for (family, name, doc), value in zip(table, values, strict=True):
        yield family(name, doc, value=value)
