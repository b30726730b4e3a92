"""Issue 15 end to end: rules send requests where they should, sessions stick and move."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from tests.conftest import StartRouter, provider
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.behaviours import Status
from tests.fakes.openai import OpenAIFake

USER_ID = "user_" + "a" * 64 + "_account_acc-1_session_4a7d9c2e-1111-4222-8333-944455556666"
WEATHER = {"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.name == "router.request"]  # type: ignore[attr-defined]


@pytest.fixture
async def cheap_fake():
    async with OpenAIFake() as fake:
        yield fake


def rules_config(claude: AnthropicFake, cheap: OpenAIFake, **extra: Any) -> dict[str, Any]:
    return {
        "providers": [
            provider(
                "claude",
                claude.base_url,
                [claude.key],
                ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-long"],
                kind="anthropic",
            ),
            provider("cheap", cheap.base_url + "/v1", [cheap.key], ["gpt-4o-mini"]),
        ],
        "routing": {
            "rules": [
                {
                    "name": "background",
                    "when": {"background": True},
                    "model": "gpt-4o-mini",
                    "set": {"max-tokens": 256},
                },
                {"name": "long", "when": {"tokens-above": 2000}, "model": "claude-long"},
                {
                    "name": "nightly",
                    "when": {"headers": {"x-job": "nightly*"}},
                    "model": "claude-haiku-4-5",
                    "set": {"max-tokens": 100},
                },
            ]
        },
        **extra,
    }


async def test_claude_code_background_request_goes_to_the_cheap_model(
    router_factory: StartRouter,
    anthropic_fake: AnthropicFake,
    cheap_fake: OpenAIFake,
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = await router_factory(rules_config(anthropic_fake, cheap_fake))
    caplog.set_level(logging.INFO)
    client = anthropic.AsyncAnthropic(base_url=router.url, api_key="unused", max_retries=0)
    title = await client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=2000,
        messages=[{"role": "user", "content": "write a title"}],
    )
    assert title.content[0].type == "text"
    assert title.model == "claude-haiku-4-5"  # the client's own name comes back
    assert cheap_fake.last_request.json["model"] == "gpt-4o-mini"
    sent_cap = cheap_fake.last_request.json.get(
        "max_completion_tokens"
    ) or cheap_fake.last_request.json.get("max_tokens")
    assert sent_cap == 256
    # the main loop's Haiku request offers tools: not background, stays on Claude
    await client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=2000,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "weather?"}],
    )
    assert anthropic_fake.last_request.json["model"] == "claude-haiku-4-5"
    assert len(cheap_fake.requests) == 1
    lines = request_lines(caplog)
    assert lines[0]["rule"] == "background" and lines[0]["routed_model"] == "gpt-4o-mini"
    assert "rule" not in lines[1]


async def test_long_context_and_header_rules(
    router_factory: StartRouter, anthropic_fake: AnthropicFake, cheap_fake: OpenAIFake
) -> None:
    router = await router_factory(rules_config(anthropic_fake, cheap_fake))
    client = anthropic.AsyncAnthropic(base_url=router.url, api_key="unused", max_retries=0)
    long_text = "lorem ipsum dolor sit amet " * 800
    await client.messages.create(
        model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": long_text}]
    )
    assert anthropic_fake.last_request.json["model"] == "claude-long"
    short = [{"role": "user", "content": "short"}]
    await client.messages.create(model="claude-sonnet-4-5", max_tokens=500, messages=short)
    # no rule matched: passthrough, the client's bytes as they were
    assert anthropic_fake.last_request.json["model"] == "claude-sonnet-4-5"
    assert anthropic_fake.last_request.json["max_tokens"] == 500
    await client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=500,
        messages=short,
        extra_headers={"X-Job": "nightly-7"},
    )
    received = anthropic_fake.last_request.json
    assert received["model"] == "claude-haiku-4-5" and received["max_tokens"] == 100


async def test_no_rule_matching_keeps_the_passthrough_bytes(
    router_factory: StartRouter, anthropic_fake: AnthropicFake, cheap_fake: OpenAIFake
) -> None:
    router = await router_factory(rules_config(anthropic_fake, cheap_fake))
    raw = json.dumps(
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 9,
            "messages": [{"role": "user", "content": "x"}],
        },
        indent=3,
    ).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(
            router.url + "/v1/messages",
            data=raw,
            headers={"Content-Type": "application/json", "anthropic-version": "2023-06-01"},
        ) as response:
            assert response.status == 200
    assert anthropic_fake.last_request.body == raw


async def test_conversation_sticks_to_one_credential_and_moves_on_cooldown(
    router_factory: StartRouter,
) -> None:
    async with AnthropicFake(keys=["sk-a", "sk-b", "sk-c"]) as fake:
        keys = [{"name": n, "key": f"sk-{n}"} for n in "abc"]
        router = await router_factory(
            {
                "providers": [
                    provider("claude", fake.base_url, keys, ["claude-sonnet-4-5"], kind="anthropic")
                ],
                "routing": {"retry-backoff": 0, "cooldown": {"initial": 60}},
            }
        )
        client = anthropic.AsyncAnthropic(base_url=router.url, api_key="unused", max_retries=0)
        history: list[dict[str, Any]] = []

        async def turn(text: str) -> str:
            history.append({"role": "user", "content": text})
            reply = await client.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=100,
                messages=history,  # type: ignore[arg-type]
                metadata={"user_id": USER_ID},
            )
            history.append({"role": "assistant", "content": reply.content[0].text})  # type: ignore[union-attr]
            return fake.last_request.headers["x-api-key"]

        # other traffic in between keeps the round-robin turning
        async def other(n: int) -> None:
            await client.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=10,
                messages=[{"role": "user", "content": f"other {n}"}],
            )

        used = []
        for n in range(4):
            used.append(await turn(f"turn {n}"))
            await other(n)
        assert len(set(used)) == 1, used
        first = used[0]
        fake.script.push(Status(529))  # the sticky credential fails: it cools down
        moved = await turn("turn after the failure")
        assert moved != first
        assert [r.headers["x-api-key"] for r in fake.requests[-2:]] == [first, moved]
        again = [await turn(f"later {n}") for n in range(3)]
        assert set(again) == {moved}


async def test_prefix_conversation_without_ids_sticks_through_openai_sdk(
    router_factory: StartRouter,
) -> None:
    async with OpenAIFake(keys=["k1", "k2"]) as fake:
        keys = [{"name": "one", "key": "k1"}, {"name": "two", "key": "k2"}]
        router = await router_factory(
            {"providers": [provider("up", fake.base_url + "/v1", keys, ["m"])]}
        )
        client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused")
        messages: list[dict[str, Any]] = [{"role": "system", "content": "terse"}]
        used = []
        for n in range(5):
            messages.append({"role": "user", "content": f"q{n}"})
            reply = await client.chat.completions.create(model="m", messages=messages)  # type: ignore[arg-type]
            messages.append({"role": "assistant", "content": reply.choices[0].message.content})
            used.append(fake.last_request.headers["Authorization"])
            await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": f"unrelated {n}"}]
            )
        assert len(set(used)) == 1
        # the unrelated one-shot requests still spread over both keys
        assert {r.headers["Authorization"] for r in fake.requests} == {"Bearer k1", "Bearer k2"}
