"""Rules: each condition, order, lazy decoding, overrides."""

from __future__ import annotations

from typing import Any

import pytest

from router.config.rules import RuleConditions, RuleConfig, RuleOverrides
from router.formats import Format, Request, get_codec
from router.routing.rules import RequestFacts, Rules, apply_overrides

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Er"
    "kJggg=="
)


class Facts(RequestFacts):
    """Facts over a real decode, counting how often the request is decoded."""

    def __init__(self, fmt: Format, body: dict[str, Any], **kw: Any) -> None:
        self.decodes = 0
        self._decoded: Request | None = None

        def decode() -> Request:
            if self._decoded is None:
                self.decodes += 1
                self._decoded = get_codec(fmt).decode_request(body)
            return self._decoded

        super().__init__(fmt, str(body.get("model", "")), body, decode, **kw)


def anthropic(model: str = "claude-sonnet-4-5", **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 1000,
        "messages": [{"role": "user", "content": "hello"}],
        **extra,
    }


def rule(name: str, target: str = "target", **when: Any) -> RuleConfig:
    return RuleConfig(name=name, model=target, when=RuleConditions(**when))


def decide(rules: list[RuleConfig], facts: RequestFacts) -> str | None:
    decision = Rules(rules).decide(facts)
    return decision.rule if decision else None


WEATHER_TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}


@pytest.mark.parametrize(
    ("when", "body", "matches"),
    [
        ({"tokens_above": 50}, anthropic(), False),
        (
            {"tokens_above": 50},
            anthropic(messages=[{"role": "user", "content": "word " * 200}]),
            True,
        ),
        ({"thinking": True}, anthropic(), False),
        ({"thinking": True}, anthropic(thinking={"type": "enabled", "budget_tokens": 2048}), True),
        ({"thinking": False}, anthropic(), True),
        ({"tools": True}, anthropic(), False),
        ({"tools": True}, anthropic(tools=[WEATHER_TOOL]), True),
        ({"tools": False}, anthropic(tools=[WEATHER_TOOL]), False),
        ({"tool": "get_*"}, anthropic(tools=[WEATHER_TOOL]), True),
        ({"tool": "web_search*"}, anthropic(tools=[WEATHER_TOOL]), False),
        (
            {"tool": "web_search*"},
            anthropic(tools=[{"type": "web_search_20250305", "name": "web_search"}]),
            True,
        ),
        ({"images": True}, anthropic(), False),
        (
            {"images": True},
            anthropic(
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/png",
                                    "data": PNG,
                                },
                            }
                        ],
                    }
                ]
            ),
            True,
        ),
        ({"format": "anthropic"}, anthropic(), True),
        ({"format": "openai-chat"}, anthropic(), False),
        ({"model": "claude-*"}, anthropic(), True),
        ({"model": "re:^gpt-"}, anthropic(), False),
        ({"background": True}, anthropic("claude-3-5-haiku-20241022"), True),
        ({"background": True}, anthropic("claude-haiku-4-5"), True),
        ({"background": True}, anthropic("claude-haiku-4-5", tools=[WEATHER_TOOL]), False),
        ({"background": True}, anthropic("claude-sonnet-4-5"), False),
    ],
)
def test_each_condition(when: dict[str, Any], body: dict[str, Any], matches: bool) -> None:
    facts = Facts(Format.ANTHROPIC, body)
    assert (decide([rule("r", **when)], facts) == "r") is matches


def test_key_and_header_conditions_are_globs_and_header_names_ignore_case() -> None:
    r = rule("ci", client_key="ci-*", headers={"X-Job": "nightly*"})
    body = anthropic()
    hit = Facts(Format.ANTHROPIC, body, client_key="ci-runner", headers={"x-job": "nightly-3"})
    assert decide([r], hit) == "ci"
    wrong_key = Facts(Format.ANTHROPIC, body, client_key="laptop", headers={"x-job": "nightly-3"})
    assert decide([r], wrong_key) is None
    no_header = Facts(Format.ANTHROPIC, body, client_key="ci-runner")
    assert decide([r], no_header) is None


def test_first_matching_rule_wins_and_all_conditions_must_hold() -> None:
    rules = [
        rule("both", tools=True, format="anthropic"),
        rule("any-anthropic", format="anthropic"),
        rule("never-reached", format="anthropic"),
    ]
    assert decide(rules, Facts(Format.ANTHROPIC, anthropic())) == "any-anthropic"
    assert decide(rules, Facts(Format.ANTHROPIC, anthropic(tools=[WEATHER_TOOL]))) == "both"


def test_cheap_conditions_never_decode_and_the_decode_happens_once() -> None:
    cheap = [rule("chat-only", format="openai-chat"), rule("gpt", model="gpt-*")]
    facts = Facts(Format.ANTHROPIC, anthropic())
    assert decide(cheap, facts) is None
    assert facts.decodes == 0
    deep = [rule("t", tools=True), rule("i", images=True), rule("long", tokens_above=1)]
    facts = Facts(Format.ANTHROPIC, anthropic())
    assert decide(deep, facts) == "long"
    assert facts.decodes == 1


def test_token_estimate_is_computed_once_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    import router.routing.rules as rules_module

    calls = []
    real = rules_module.estimate_tokens
    monkeypatch.setattr(rules_module, "estimate_tokens", lambda r: calls.append(1) or real(r))
    rules = [
        rule("a", tokens_above=10_000),
        rule("b", tokens_above=5_000),
        rule("c", tokens_above=1),
    ]
    assert decide(rules, Facts(Format.ANTHROPIC, anthropic())) == "c"
    assert len(calls) == 1


def test_gemini_hosted_search_tool_counts_as_a_named_tool() -> None:
    body = {
        "model": "gemini-2.5-pro",
        "contents": [{"role": "user", "parts": [{"text": "news?"}]}],
        "tools": [{"googleSearch": {}}],
    }
    assert decide([rule("s", tool="googleSearch")], Facts(Format.GEMINI, body)) == "s"


def test_overrides_cap_max_tokens_and_set_effort() -> None:
    req = get_codec(Format.ANTHROPIC).decode_request(anthropic(max_tokens=9000))
    capped = apply_overrides(req, RuleOverrides(max_tokens=4096, reasoning_effort="low"))
    assert capped.max_tokens == 4096
    assert capped.reasoning is not None and capped.reasoning.effort == "low"
    assert capped.reasoning.budget == 4096
    small = get_codec(Format.ANTHROPIC).decode_request(anthropic(max_tokens=100))
    assert apply_overrides(small, RuleOverrides(max_tokens=4096)).max_tokens == 100
    assert apply_overrides(small, RuleOverrides()) is small


def test_targets_lists_every_rule_model() -> None:
    rules = Rules([rule("a", "cheap", background=True), rule("b", "long", tokens_above=9)])
    assert rules.targets() == ["cheap", "long"]
    assert not Rules([])


def test_a_request_the_decoder_refuses_fails_ir_conditions_instead_of_erroring() -> None:
    # Anthropic's decoder refuses server tools; passthrough to Anthropic can still serve it
    body = anthropic(tools=[{"type": "web_search_20250305", "name": "web_search"}])
    rules = [rule("img", images=True), rule("think", thinking=True), rule("search", tool="web_*")]
    assert decide(rules, Facts(Format.ANTHROPIC, body)) == "search"


@pytest.mark.parametrize(
    "body",
    [
        anthropic(messages=[{"role": "user", "content": "word " * 300}]),
        anthropic(messages=[{"role": "user", "content": "日本語のテキスト" * 100}]),
        anthropic(tools=[WEATHER_TOOL], system="be brief " * 50),
        anthropic(
            messages=[
                {"role": "user", "content": "look"},
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "t1",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        }
                    ],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}],
                },
            ]
        ),
    ],
)
def test_token_ceiling_bounds_the_estimate(body: dict[str, Any]) -> None:
    from router.formats.tokens import estimate_tokens
    from router.routing.rules import _token_ceiling

    request = get_codec(Format.ANTHROPIC).decode_request(body)
    assert estimate_tokens(request) <= _token_ceiling(request)


def test_short_request_is_below_a_threshold_without_tokenizing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import router.routing.rules as rules_module

    calls = []
    real = rules_module.estimate_tokens
    monkeypatch.setattr(rules_module, "estimate_tokens", lambda r: calls.append(1) or real(r))
    assert decide([rule("long", tokens_above=60_000)], Facts(Format.ANTHROPIC, anthropic())) is None
    assert calls == []


def test_tool_names_are_names_and_types_not_field_names() -> None:
    facts = Facts(Format.ANTHROPIC, anthropic(tools=[WEATHER_TOOL]))
    assert facts.tool_names() == {"get_weather"}
    chat = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
    }
    assert Facts(Format.OPENAI_CHAT, chat).tool_names() == {"function", "lookup"}
