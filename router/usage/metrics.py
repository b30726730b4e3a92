"""Per-request Prometheus metrics, recorded from the request's log fields.

Label values are bounded: formats, providers and key names come from the config (or the
issued-key store), statuses are HTTP codes, and a model is named only when the model
table knows it by exact name; anything else is ``other``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter

from router.usage.families import LoopCounter, LoopFamilies, LoopHistogram

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
    """Counters and histograms fed once per generation request (router/usage/families.py:
    plain numbers on the event loop, collected at scrape time)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        known_models: Callable[[], frozenset[str]],
        known_rules: Callable[[], frozenset[str]],
    ):
        """``known_models``/``known_rules``: the names the current config allows as labels."""
        self._known_models = known_models
        self._known_rules = known_rules
        self.requests = LoopCounter(
            "cliproxy_requests",
            "Generation requests by client format, upstream provider, model, client key "
            "and HTTP status.",
            ["format", "provider", "model", "key", "status"],
        )
        self.duration = LoopHistogram(
            "cliproxy_request_duration_seconds",
            "Generation request latency, from arrival to the last byte.",
            ["format", "provider"],
            _LATENCY_BUCKETS,
        )
        self.ttft = LoopHistogram(
            "gen_ai_server_time_to_first_token_seconds",
            "Time from the request's arrival to the upstream's first byte.",
            ["provider", "model"],
            _TTFT_BUCKETS,
        )
        self.tokens = LoopHistogram(
            "gen_ai_client_token_usage",
            "Tokens per request by gen_ai token type (cached is part of input, reasoning "
            "part of output).",
            ["token_type", "provider", "model", "key"],
            _TOKEN_BUCKETS,
        )
        self.attempts = LoopCounter(
            "cliproxy_upstream_attempts",
            "Upstream candidates opened for generation requests (first tries and retries).",
            ["provider"],
        )
        self.failovers = LoopCounter(
            "cliproxy_upstream_failovers",
            "Generation requests answered by a later candidate after the first failed.",
            ["provider"],
        )
        self.rule_decisions = LoopCounter(
            "cliproxy_routing_rule_decisions",
            "Generation requests by the routing rule that decided where they went (none: no "
            "rule matched, or the request was refused before routing).",
            ["rule"],
        )
        self.cache_lookups = LoopCounter(
            "cliproxy_response_cache_lookups",
            "Requests on routes with a response cache that looked it up, by result (hit, miss).",
            ["result"],
        )
        self.cache_stores = LoopCounter(
            "cliproxy_response_cache_stores",
            "Answers stored in the response cache after a miss.",
            [],
        )
        self.cache_skips = LoopCounter(
            "cliproxy_response_cache_skips",
            "Requests on routes with a response cache answered without it, by reason "
            "(temperature, tool_results, undecodable).",
            ["reason"],
        )
        registry.register(
            LoopFamilies(
                [
                    self.requests,
                    self.duration,
                    self.ttft,
                    self.tokens,
                    self.attempts,
                    self.failovers,
                    self.rule_decisions,
                    self.cache_lookups,
                    self.cache_stores,
                    self.cache_skips,
                ]
            )
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

    def rule_label(self, rule: object) -> str:
        if not rule:
            return NONE
        return rule if isinstance(rule, str) and rule in self._known_rules() else OTHER

    def record(self, fields: Mapping[str, object], status: int, seconds: float) -> None:
        provider = str(fields.get("provider") or NONE)
        model = self.model_label(fields.get("model"))
        key = str(fields.get("key") or NONE)
        fmt = str(fields.get("format") or NONE)
        self.requests.inc((fmt, provider, model, key, str(status)))
        self.duration.observe((fmt, provider), seconds)
        self.rule_decisions.inc((self.rule_label(fields.get("rule")),))
        ttfb = fields.get("ttfb_ms")
        if isinstance(ttfb, (int, float)):
            self.ttft.observe((provider, model), ttfb / 1000)
        for field, token_type in TOKEN_TYPES.items():
            count = fields.get(field)
            if isinstance(count, int) and (count or field in ("tokens_in", "tokens_out")):
                self.tokens.observe((token_type, provider, model, key), count)
        cache = fields.get("cache")
        if isinstance(cache, str):
            self._record_cache(cache)
        attempts = fields.get("attempts")
        if isinstance(attempts, int) and attempts > 0:
            self.attempts.inc((provider,), attempts)
            if attempts > 1:
                self.failovers.inc((provider,))

    def _record_cache(self, result: str) -> None:
        """``cache=`` of the log line: hit, miss, store (a miss kept) or skip(reason)."""
        if result.startswith("skip(") and result.endswith(")"):
            self.cache_skips.inc((result[5:-1],))
            return
        self.cache_lookups.inc(("hit" if result == "hit" else "miss",))
        if result == "store":
            self.cache_stores.inc(())
