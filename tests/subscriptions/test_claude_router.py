"""A Claude subscription account behind the router, driven by the official SDKs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anthropic
import openai

from router.credentials import CredentialStore
from tests.conftest import StartRouter
from tests.fakes.anthropic import CLAUDE_CODE_SYSTEM, AnthropicFake
from tests.fakes.behaviours import Reply, Stream, ToolCall

MODEL = "claude-haiku-4-5-20251001"
WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TIME = {
    "name": "get_time",
    "description": "Local time in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


async def start(router_factory: StartRouter, fake: AnthropicFake, tmp_path: Path) -> str:
    CredentialStore(tmp_path / "auth").save(
        "claude",
        "claude-ada@example.com",
        {
            "access_token": fake.oauth_token,
            "refresh_token": "sk-ant-ort01-test",
            "expires_at": time.time() + 3600,
            "email": "ada@example.com",
        },
    )
    router = await router_factory({"subscriptions": {"claude": {"api-base": fake.base_url}}})
    return router.url


def upstream_tool_names(fake: AnthropicFake) -> list[str]:
    return [tool["name"] for tool in fake.last_request.json["tools"]]


async def test_anthropic_sdk_stream_sees_original_tool_names(
    router_factory: StartRouter, anthropic_fake: AnthropicFake, tmp_path: Path
) -> None:
    url = await start(router_factory, anthropic_fake, tmp_path)
    anthropic_fake.script.push(
        Stream(
            text="Let me check.",
            tool_calls=[
                ToolCall("proxy_get_weather", {"city": "Paris"}),
                ToolCall("proxy_get_time", {"city": "Paris"}),
            ],
        )
    )
    client = anthropic.AsyncAnthropic(base_url=url, api_key="unused")
    async with client.messages.stream(
        model=MODEL,
        max_tokens=512,
        system="Be brief.",
        tools=[WEATHER, TIME],
        messages=[{"role": "user", "content": "Weather and time in Paris?"}],
        extra_headers={"anthropic-beta": "context-1m-2025-08-07"},
    ) as stream:
        started = [
            event.content_block.name
            async for event in stream
            if event.type == "content_block_start" and event.content_block.type == "tool_use"
        ]
        final = await stream.get_final_message()
    assert started == ["get_weather", "get_time"]
    tool_uses = [b for b in final.content if b.type == "tool_use"]
    assert [(b.name, b.input) for b in tool_uses] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"city": "Paris"}),
    ]
    seen = anthropic_fake.last_request
    assert upstream_tool_names(anthropic_fake) == ["proxy_get_weather", "proxy_get_time"]
    assert seen.headers["Authorization"] == f"Bearer {anthropic_fake.oauth_token}"
    betas = seen.headers["anthropic-beta"].split(",")
    assert betas[0] == "oauth-2025-04-20" and "context-1m-2025-08-07" in betas
    assert [b["text"] for b in seen.json["system"]] == [CLAUDE_CODE_SYSTEM, "Be brief."]


async def test_anthropic_sdk_tool_loop_across_turns(
    router_factory: StartRouter, anthropic_fake: AnthropicFake, tmp_path: Path
) -> None:
    url = await start(router_factory, anthropic_fake, tmp_path)
    client = anthropic.AsyncAnthropic(base_url=url, api_key="unused")
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Oslo?"}]
    anthropic_fake.script.push(Reply(tool_calls=[ToolCall("proxy_get_weather", {"city": "Oslo"})]))
    first = await client.messages.create(
        model=MODEL, max_tokens=256, tools=[WEATHER], messages=messages
    )
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "get_weather"
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "snow"}],
        },
    ]
    anthropic_fake.script.push(
        Stream(tool_calls=[ToolCall("proxy_get_weather", {"city": "Bergen"})])
    )
    async with client.messages.stream(
        model=MODEL, max_tokens=256, tools=[WEATHER], messages=messages
    ) as stream:
        second = await stream.get_final_message()
    sent_history = anthropic_fake.last_request.json["messages"][1]["content"]
    assert [b["name"] for b in sent_history if b["type"] == "tool_use"] == ["proxy_get_weather"]
    assert [(b.name, b.input) for b in second.content if b.type == "tool_use"] == [
        ("get_weather", {"city": "Bergen"})
    ]


async def test_openai_sdk_translated_stream_restores_function_names(
    router_factory: StartRouter, anthropic_fake: AnthropicFake, tmp_path: Path
) -> None:
    url = await start(router_factory, anthropic_fake, tmp_path)
    anthropic_fake.script.push(Stream(tool_calls=[ToolCall("proxy_get_weather", {"city": "Rome"})]))
    client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="unused")
    stream = await client.chat.completions.create(
        model=MODEL,
        stream=True,
        messages=[{"role": "user", "content": "Weather in Rome?"}],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather for a city.",
                    "parameters": WEATHER["input_schema"],
                },
            }
        ],
    )
    names, arguments = [], ""
    async for chunk in stream:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if call.function and call.function.name:
                names.append(call.function.name)
            arguments += (call.function.arguments or "") if call.function else ""
    assert names == ["get_weather"]
    assert json.loads(arguments) == {"city": "Rome"}
    assert upstream_tool_names(anthropic_fake) == ["proxy_get_weather"]
