"""``route explain``: the routing decision for a request, as data and as text."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from router.formats import Format, Request, get_codec
from router.logs import utc_iso
from router.routing.plan import RoutePlan, explain_candidates, plan_route
from router.routing.response_cache import skip_reason
from router.routing.rules import RequestFacts, Rules
from router.routing.selector import Selector
from router.routing.sticky import StickySessions
from router.routing.table import ModelTable


def guess_format(body: Mapping[str, Any]) -> Format:
    """The client API a bare request body is most likely in (``--format`` overrides)."""
    if "contents" in body:
        return Format.GEMINI
    if "input" in body or "instructions" in body:
        return Format.OPENAI_RESPONSES
    anthropic_only = ("system", "thinking", "stop_sequences", "metadata", "top_k")
    if any(key in body for key in anthropic_only):
        return Format.ANTHROPIC
    return Format.OPENAI_CHAT


def explain(
    table: ModelTable,
    rules: Rules,
    sticky: StickySessions,
    selector: Selector,
    fmt: Format,
    model: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    client_key: str | None = None,
) -> dict[str, Any]:
    decoded: list[Request] = []

    def decode() -> Request:
        if not decoded:
            decoded.append(get_codec(fmt).decode_request(dict(body)))
        return decoded[0]

    facts = RequestFacts(fmt, model, body, decode, headers=headers, client_key=client_key)
    plan = plan_route(facts, table, rules, sticky, always_session=True)
    overrides = plan.overrides
    now = time.time()
    return {
        "format": fmt.value,
        "model": model,
        "rule": plan.rule,
        "routed_model": plan.model,
        "set": {
            k: v
            for k, v in (
                ("max-tokens", overrides.max_tokens if overrides else None),
                ("reasoning-effort", overrides.reasoning_effort if overrides else None),
            )
            if v is not None
        },
        "session": plan.session.key if plan.session else None,
        "sticky": f"{plan.pin.provider}/{plan.pin.credential}" if plan.pin else None,
        "cache": _cache(plan, decode),
        "candidates": [
            {
                "provider": e.candidate.upstream.name,
                "credential": e.candidate.credential.name,
                "upstream_model": e.candidate.model,
                "cooling_s": round(e.cooling_s, 1),
                "cooling_until": utc_iso(now + e.cooling_s) if e.cooling_s > 0 else None,
            }
            for e in explain_candidates(plan, selector)
        ],
        "unconfigured": sorted(
            {
                f"{t.upstream.name}: {t.upstream.unconfigured_reason}"
                for t in plan.targets
                if t.upstream.unconfigured_reason
            }
        ),
    }


def _cache(plan: RoutePlan, decode: Callable[[], Request]) -> str | None:
    """The response cache's decision: None (the route keeps no answers), ``look up`` or
    ``skip(reason)``."""
    config = plan.targets[0].cache if plan.targets else None
    if config is None:
        return None
    reason = skip_reason(decode, config)
    return f"skip({reason})" if reason else f"look up (ttl {config.ttl:g} s)"


def render(result: Mapping[str, Any], source: str = "") -> str:
    """The decision as text; ``source`` says where it was decided (live or static)."""
    lines = [source] if source else []
    lines.append(f"request: {result['format']} model {result['model']}")
    if result["rule"]:
        changes = ", ".join(f"{k}={v}" for k, v in result["set"].items())
        lines.append(
            f"rule: {result['rule']} -> {result['routed_model']}"
            + (f" (set {changes})" if changes else "")
        )
    else:
        lines.append("rule: none matched (the model table decides)")
    if result["sticky"]:
        lines.append(f"sticky: {result['sticky']} (this conversation's last credential)")
    if result["cache"]:
        lines.append(f"response cache: {result['cache']}")
    if not result["candidates"]:
        lines.append(f"no candidates: model {result['routed_model']!r} is not configured")
    else:
        lines.append("candidates, in the order failover tries them:")
    for i, c in enumerate(result["candidates"], 1):
        state = "ready"
        if c["cooling_s"] > 0:
            state = f"cooling {c['cooling_s']} s (until {c['cooling_until']})"
        lines.append(
            f"  {i}. {c['provider']} credential={c['credential']} "
            f"model={c['upstream_model']} {state}"
        )
    lines += [f"  not usable: {reason}" for reason in result["unconfigured"]]
    return "\n".join(lines)
