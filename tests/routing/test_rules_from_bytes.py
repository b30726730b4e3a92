"""Conditions that can tell from the body's bytes that they do not hold skip the decode,
and decide exactly as the decoded request would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from router.config.rules import RuleConditions, RuleConfig
from router.formats import Format
from router.formats.tokens import estimate_tokens
from router.routing.rules import Rules
from tests.routing.test_rules import PNG, Facts, anthropic

IMAGE_BLOCK = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
}
CHAT_IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + PNG}}

CASES: list[tuple[Format, dict[str, Any]]] = [
    (Format.ANTHROPIC, anthropic()),
    (Format.ANTHROPIC, anthropic(thinking={"type": "enabled", "budget_tokens": 2048})),
    (Format.ANTHROPIC, anthropic(output_config={"effort": "high"})),
    (Format.ANTHROPIC, anthropic(messages=[{"role": "user", "content": [IMAGE_BLOCK]}])),
    (Format.ANTHROPIC, anthropic(messages=[{"role": "user", "content": "x " * 5000}])),
    (Format.OPENAI_CHAT, {"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    (
        Format.OPENAI_CHAT,
        {"model": "m", "reasoning_effort": "high", "messages": [{"role": "user", "content": "a"}]},
    ),
    (Format.OPENAI_CHAT, {"model": "m", "messages": [{"role": "user", "content": [CHAT_IMAGE]}]}),
    (Format.OPENAI_RESPONSES, {"model": "m", "input": "hi", "reasoning": {"effort": "low"}}),
    (
        Format.OPENAI_RESPONSES,
        {
            "model": "m",
            "input": [
                {"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y"}]}
            ],
        },
    ),
    (
        Format.GEMINI,
        {
            "contents": [
                {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}]}
            ],
            "generationConfig": {"thinkingConfig": {"thinkingBudget": 1024}},
        },
    ),
    (Format.GEMINI, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
]
CONDITIONS: list[dict[str, Any]] = [
    {"images": True},
    {"images": False},
    {"thinking": True},
    {"thinking": False},
    {"tokens_above": 100},
    {"tokens_above": 60_000},
]


def _decide(fmt: Format, body: dict[str, Any], when: dict[str, Any], raw: bytes) -> bool:
    facts = Facts(fmt, body, raw=raw)
    rules = Rules([RuleConfig("r", "t", RuleConditions(**when))])
    return rules.decide(facts) is not None


@pytest.mark.parametrize(("fmt", "body"), CASES)
@pytest.mark.parametrize("when", CONDITIONS)
def test_same_decision_with_and_without_the_bytes(
    fmt: Format, body: dict[str, Any], when: dict[str, Any]
) -> None:
    plain = json.dumps(body, ensure_ascii=False).encode()
    escaped = json.dumps(body).replace('"model"', '"mod\\u0065l"').encode()
    expected = _decide(fmt, body, when, b"")
    assert _decide(fmt, body, when, plain) == expected
    assert _decide(fmt, body, when, escaped) == expected


def test_plain_request_without_images_or_reasoning_is_never_decoded() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "Say ok."}], "max_tokens": 8}
    facts = Facts(Format.OPENAI_CHAT, body, raw=json.dumps(body).encode())
    rules = Rules(
        [
            RuleConfig("images", "t", RuleConditions(images=True)),
            RuleConfig("thinking", "t", RuleConditions(thinking=True)),
            RuleConfig("long", "t", RuleConditions(tokens_above=60_000)),
        ]
    )
    assert rules.decide(facts) is None
    assert facts.decodes == 0


@pytest.mark.parametrize(("fmt", "body"), CASES)
def test_byte_ceiling_bounds_the_estimate(fmt: Format, body: dict[str, Any]) -> None:
    facts = Facts(fmt, body, raw=json.dumps(body, ensure_ascii=False).encode())
    ceiling = facts._raw_token_ceiling()
    assert ceiling is not None and estimate_tokens(facts.ir()) <= ceiling
