"""Per-request Prometheus metrics, recorded from the request's log fields.

Label values are bounded: formats, providers and key names come from the config (or the
issued-key store), statuses are HTTP codes, and a model is named only when the model
table knows it by exact name; anything else is ``other``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

# Token types as gen_ai.token.type names them (input, output), plus the two kinds the
# formats report inside those totals.
TOKEN_TYPES = {
    "tokens_in": "input",
    "tokens_out": "output",
    "tokens_cached": "cached",
    "tokens_reasoning": "reasoning",
}
# OpenTelemetry GenAI's recommended bucket boundaries.
_TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)
_TTFT_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
OTHER = "other"
NONE = "none"


class RequestMetrics:
    """Counters and histograms fed once per generation request."""

    def __init__(self, registry: CollectorRegistry, known_models: Callable[[], frozenset[str]]):
        self._known_models = known_models
        # (metric, label values) -> child; label sets are bounded, so this is too.
        self._children: dict[tuple[object, tuple[str, ...]], Any] = {}
        self.requests = Counter(
            "cliproxy_requests",
            "Generation requests by client format, upstream provider, model, client key "
            "and HTTP status.",
            ["format", "provider", "model", "key", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "cliproxy_request_duration_seconds",
            "Generation request latency, from arrival to the last byte.",
            ["format", "provider"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.ttft = Histogram(
            "gen_ai_server_time_to_first_token_seconds",
            "Time from the request's arrival to the upstream's first byte.",
            ["provider", "model"],
            buckets=_TTFT_BUCKETS,
            registry=registry,
        )
        self.tokens = Histogram(
            "gen_ai_client_token_usage",
            "Tokens per request by gen_ai token type (cached is part of input, reasoning "
            "part of output).",
            ["token_type", "provider", "model", "key"],
            buckets=_TOKEN_BUCKETS,
            registry=registry,
        )
        self.attempts = Counter(
            "cliproxy_upstream_attempts",
            "Upstream candidates opened for generation requests (first tries and retries).",
            ["provider"],
            registry=registry,
        )
        self.failovers = Counter(
            "cliproxy_upstream_failovers",
            "Generation requests answered by a later candidate after the first failed.",
            ["provider"],
            registry=registry,
        )
        self.cache_lookups = Counter(
            "cliproxy_response_cache_lookups",
            "Requests on routes with a response cache that looked it up, by result (hit, miss).",
            ["result"],
            registry=registry,
        )
        self.cache_stores = Counter(
            "cliproxy_response_cache_stores",
            "Answers stored in the response cache after a miss.",
            registry=registry,
        )
        self.cache_skips = Counter(
            "cliproxy_response_cache_skips",
            "Requests on routes with a response cache answered without it, by reason "
            "(temperature, tool_results, undecodable).",
            ["reason"],
            registry=registry,
        )
        self.key_rejections = Counter(
            "cliproxy_client_key_rejections",
            "Requests refused for an issued key before reaching a handler: 403 revoked or "
            "expired, 429 over a budget or rate limit.",
            ["key", "status"],
            registry=registry,
        )

    def model_label(self, model: object) -> str:
        return model if isinstance(model, str) and model in self._known_models() else OTHER

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        """``metric.labels(...)``, remembered: labels() takes a lock and builds a key."""
        key = (metric, labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def record(self, fields: Mapping[str, object], status: int, seconds: float) -> None:
        provider = str(fields.get("provider") or NONE)
        model = self.model_label(fields.get("model"))
        key = str(fields.get("key") or NONE)
        fmt = str(fields.get("format") or NONE)
        self._child(self.requests, fmt, provider, model, key, str(status)).inc()
        self._child(self.duration, fmt, provider).observe(seconds)
        ttfb = fields.get("ttfb_ms")
        if isinstance(ttfb, (int, float)):
            self._child(self.ttft, provider, model).observe(ttfb / 1000)
        for field, token_type in TOKEN_TYPES.items():
            count = fields.get(field)
            if isinstance(count, int) and (count or field in ("tokens_in", "tokens_out")):
                self._child(self.tokens, token_type, provider, model, key).observe(count)
        cache = fields.get("cache")
        if isinstance(cache, str):
            self._record_cache(cache)
        attempts = fields.get("attempts")
        if isinstance(attempts, int) and attempts > 0:
            self._child(self.attempts, provider).inc(attempts)
            if attempts > 1:
                self._child(self.failovers, provider).inc()

    def _record_cache(self, result: str) -> None:
        """``cache=`` of the log line: hit, miss, store (a miss kept) or skip(reason)."""
        if result.startswith("skip(") and result.endswith(")"):
            self._child(self.cache_skips, result[5:-1]).inc()
            return
        self._child(self.cache_lookups, "hit" if result == "hit" else "miss").inc()
        if result == "store":
            self.cache_stores.inc()
