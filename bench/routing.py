"""What routing rules and sticky sessions cost (issue 15).

routing-rules  rule evaluation and sticky lookup per request (microseconds, in process),
               and passthrough req/s with ten rules configured vs none, same run
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import yaml

from bench.paired import SHARE_NOTES, cpu_share
from bench.registry import BenchResult, RunOptions, Target, benchmark
from router.config.rules import RuleConditions, RuleConfig, StickyConfig
from router.formats import Format, Request, get_codec
from router.routing.rules import RequestFacts, Rules
from router.routing.sticky import StickySessions, session_of

# Ten rules none of which matches the bench's request, so every one is evaluated; the
# later ones need the decoded request and the token estimate.
TEN_RULES: list[dict[str, Any]] = [
    {"name": "background", "when": {"background": True, "format": "anthropic"}},
    {"name": "claude", "when": {"model": "claude-*"}},
    {"name": "ci", "when": {"client-key": "ci-*"}},
    {"name": "nightly", "when": {"headers": {"x-job": "nightly*"}}},
    {"name": "search", "when": {"tool": "web_search*"}},
    {"name": "gemini-tools", "when": {"tools": True, "format": "gemini"}},
    {"name": "mcp", "when": {"tool": "mcp__*"}},
    {"name": "images", "when": {"images": True}},
    {"name": "thinking", "when": {"thinking": True}},
    {"name": "long", "when": {"tokens-above": 60000}},
]
STORE_SIZE = 10_000
UNMATCHED_MODEL = "house-model"


def rules_yaml() -> str:
    rules = [{**rule, "model": "bench-model"} for rule in TEN_RULES]
    return str(yaml.safe_dump({"routing": {"rules": rules}}, sort_keys=False))


def claude_code_turn() -> dict[str, Any]:
    """A mid-conversation Claude Code request: long system prompt, tools, a few turns."""
    tools = [
        {
            "name": f"tool_{i}",
            "description": "Does one thing. " * 20,
            "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
        }
        for i in range(12)
    ]
    turns: list[dict[str, Any]] = []
    for i in range(6):
        turns.append({"role": "user", "content": f"step {i}: " + "please look at the code " * 30})
        turns.append({"role": "assistant", "content": "done " * 40})
    turns.append({"role": "user", "content": "and now?"})
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "system": "You are a coding agent. " * 200,
        "metadata": {"user_id": "user_" + "a" * 64 + "_account_x_session_4a7d9c2e-1111-4222"},
        "tools": tools,
        "messages": turns,
    }


def _per_call_us(run: Callable[[], object], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        run()
    return round((time.perf_counter() - started) / n * 1e6, 2)


def micro_costs(n: int) -> dict[str, float]:
    """Microseconds per request: ten non-matching rules (cheap conditions only, and all ten
    with the decode and token estimate a fresh request pays), and the sticky lookup."""
    body = claude_code_turn()
    codec = get_codec(Format.ANTHROPIC)
    configs = [
        RuleConfig(r["name"], "bench-model", RuleConditions(**_conditions(r["when"])))
        for r in TEN_RULES
    ]
    cheap = Rules(configs[:7])
    ten = Rules(configs)

    def facts() -> RequestFacts:
        decoded: list[Request] = []

        def decode() -> Request:
            if not decoded:
                decoded.append(codec.decode_request(body))
            return decoded[0]

        return RequestFacts(Format.ANTHROPIC, UNMATCHED_MODEL, body, decode)

    store = StickySessions(StickyConfig(max_sessions=STORE_SIZE))
    for i in range(STORE_SIZE):
        store.remember(
            UNMATCHED_MODEL,
            session_of(Format.OPENAI_CHAT, {"messages": [{"role": "user", "content": str(i)}]}, {}),
            "p",
            "a",
        )
    decode_only = _per_call_us(lambda: codec.decode_request(body), max(n // 10, 50))
    return {
        "seven_cheap_rules_us": _per_call_us(lambda: cheap.decide(facts()), n),
        "ten_rules_with_decode_and_tokens_us": _per_call_us(
            lambda: ten.decide(facts()), max(n // 10, 50)
        ),
        "decode_alone_us": decode_only,
        "sticky_lookup_us": _per_call_us(
            lambda: store.get(UNMATCHED_MODEL, session_of(Format.ANTHROPIC, body, {})), n
        ),
        "sticky_prefix_hash_lookup_us": _per_call_us(
            lambda: store.get(
                UNMATCHED_MODEL,
                session_of(
                    Format.ANTHROPIC, {k: v for k, v in body.items() if k != "metadata"}, {}
                ),
            ),
            n,
        ),
    }


def _conditions(when: dict[str, Any]) -> dict[str, Any]:
    return {key.replace("-", "_"): value for key, value in when.items()}


@benchmark("routing-rules", "routing", "rule + sticky cost per request; CPU ten rules vs none")
async def routing_rules(options: RunOptions) -> BenchResult:
    """Rounds loading two routers sharing one upstream at once, as ``usage-overhead``;
    the target is the median of the per-round shares by CPU per request."""
    ratio, numbers = await cpu_share(
        options,
        "rules",
        (rules_yaml(), ""),
        ("ten_rules", "no_rules", "ten_vs_none"),
        ("ten rules", "no rules"),
    )
    costs = micro_costs(2_000 if options.quick else 20_000)
    options.say(f"  per request: {costs}")
    return BenchResult(
        numbers={**numbers, "per_request": costs},
        targets=[
            Target(
                "routing-rules.ten_vs_none",
                "passthrough throughput with ten (non-matching) rules, as a share of none "
                "(no-rules CPU per request / ten-rules CPU per request)",
                ratio,
                95.0,
                "%",
                higher_is_better=True,
            )
        ],
        notes=[
            *SHARE_NOTES,
            "the ten rules include tokens-above, so each request is decoded and counted",
        ],
    )
