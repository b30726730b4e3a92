"""The official openai SDK (Chat Completions) against every upstream kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import openai
import pytest

from tests.fakes.behaviours import MidStreamError, Reply, Status, Stream, ToolCall, Usage
from tests.translation.conftest import (
    LONG_TOOL_NAME,
    MAX_TOKENS_STOP,
    SYSTEM_PROMPT,
    WEATHER_SCHEMA,
    Mesh,
    client_model,
    upstream_system,
    upstream_tool_results,
    upstream_tools,
)


@pytest.fixture
async def client(mesh: Mesh) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=mesh.url + "/v1", api_key="unused", max_retries=0
    ) as sdk:
        yield sdk


def weather_tools(name: str) -> list[dict]:
    return [
        {
            "type": "function",
            "function": {"name": name, "description": "Weather", "parameters": WEATHER_SCHEMA},
        },
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
            },
        },
    ]


def tool_name_for(kind: str) -> str:
    """A name over 64 characters where the router translates (it shortens and restores);
    same-format upstreams get the client's body as is, so they see an ordinary name."""
    return "get_weather" if kind == "openai" else LONG_TOOL_NAME


MESSAGES = [
    {"role": "system", "content": SYSTEM_PROMPT},
    {"role": "user", "content": "Weather in Paris and the time?"},
]


async def test_text_usage_system_and_stop(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI
) -> None:
    mesh.fake(kind).script.push(Reply(text="It is sunny.", usage=Usage(11, 7)))
    reply = await client.chat.completions.create(model=client_model(kind), messages=MESSAGES)
    choice = reply.choices[0]
    assert choice.message.content == "It is sunny."
    assert choice.finish_reason == "stop"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (11, 7)
    assert reply.usage.total_tokens == 18
    sent = mesh.upstream_requests(kind)[-1]
    assert upstream_system(kind, sent) == SYSTEM_PROMPT


async def test_max_tokens_stop_reason(mesh: Mesh, kind: str, client: openai.AsyncOpenAI) -> None:
    mesh.fake(kind).script.push(Reply(text="It is", stop_reason=MAX_TOKENS_STOP[kind]))
    reply = await client.chat.completions.create(
        model=client_model(kind), messages=MESSAGES, max_tokens=2
    )
    assert reply.choices[0].finish_reason == "length"


async def test_streamed_text_deltas_and_usage(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI
) -> None:
    mesh.fake(kind).script.push(Stream(chunks=4, usage=Usage(20, 4)))
    stream = await client.chat.completions.create(
        model=client_model(kind),
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    deltas, finish, usage = [], None, None
    async for chunk in stream:
        if chunk.choices:
            if chunk.choices[0].delta.content:
                deltas.append(chunk.choices[0].delta.content)
            finish = chunk.choices[0].finish_reason or finish
        usage = chunk.usage or usage
    assert "".join(deltas) == "w0 w1 w2 w3"
    assert len(deltas) >= 4
    assert finish == "stop"
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (20, 4)


async def test_parallel_tool_calls_round_trip(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI
) -> None:
    name = tool_name_for(kind)
    mesh.fake(kind).script.push(
        Reply(
            text="",
            tool_calls=[ToolCall(name, {"city": "Paris"}), ToolCall("get_time", {"tz": "CET"})],
        )
    )
    first = await client.chat.completions.create(
        model=client_model(kind), messages=MESSAGES, tools=weather_tools(name)
    )
    sent_tools = upstream_tools(kind, mesh.upstream_requests(kind)[-1])
    assert "get_time" in sent_tools and len(sent_tools) == 2
    assert all(len(n) <= 64 for n in sent_tools)
    weather_schema = next(s for n, s in sent_tools.items() if n != "get_time")
    assert weather_schema["required"] == ["city"]
    assert set(weather_schema["properties"]) == {"city"}

    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    calls = message.tool_calls or []
    assert [c.function.name for c in calls] == [name, "get_time"]
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Paris"}, {"tz": "CET"}]
    assert len({c.id for c in calls}) == 2

    history = [
        *MESSAGES,
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": calls[0].id, "content": "18C and clear"},
        {"role": "tool", "tool_call_id": calls[1].id, "content": "14:05"},
    ]
    second = await client.chat.completions.create(
        model=client_model(kind), messages=history, tools=weather_tools(name)
    )
    assert second.choices[0].message.content
    results = upstream_tool_results(kind, mesh.upstream_requests(kind)[-1])
    assert len(results) == 2
    assert "18C and clear" in results[0] and "14:05" in results[1]


async def test_streamed_tool_calls(mesh: Mesh, kind: str, client: openai.AsyncOpenAI) -> None:
    name = tool_name_for(kind)
    mesh.fake(kind).script.push(
        Stream(
            text="",
            tool_calls=[ToolCall(name, {"city": "Oslo"}), ToolCall("get_time", {"tz": "UTC"})],
        )
    )
    stream = await client.chat.completions.create(
        model=client_model(kind), messages=MESSAGES, tools=weather_tools(name), stream=True
    )
    calls: dict[int, dict[str, str]] = {}
    finish = None
    async for chunk in stream:
        if not chunk.choices:
            continue
        finish = chunk.choices[0].finish_reason or finish
        for delta in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.id or ""
            if delta.function is not None:
                call["name"] += delta.function.name or ""
                call["arguments"] += delta.function.arguments or ""
    assert finish == "tool_calls"
    assert [calls[i]["name"] for i in sorted(calls)] == [name, "get_time"]
    assert json.loads(calls[0]["arguments"]) == {"city": "Oslo"}
    assert json.loads(calls[1]["arguments"]) == {"tz": "UTC"}
    assert all(c["id"] for c in calls.values())


async def test_upstream_400_is_openai_400(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI
) -> None:
    mesh.fake(kind).script.push(Status(400, "temperature is out of range"))
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=client_model(kind), messages=MESSAGES)
    assert caught.value.status_code == 400
    assert "temperature is out of range" in caught.value.message
    assert isinstance(caught.value.body, dict) and "message" in caught.value.body


async def test_mid_stream_error_raises(mesh: Mesh, kind: str, client: openai.AsyncOpenAI) -> None:
    mesh.fake(kind).script.push(MidStreamError(after_chunks=2, message="Overloaded now"))
    stream = await client.chat.completions.create(
        model=client_model(kind), messages=MESSAGES, stream=True
    )
    seen = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                seen.append(chunk.choices[0].delta.content)
    assert "Overloaded now" in caught.value.message
    assert "".join(seen) == "w0 w1"


@pytest.mark.parametrize("kind", ["openai-responses", "anthropic", "gemini"])
async def test_n_above_one_to_other_format_is_400(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=client_model(kind), messages=MESSAGES, n=2)
    assert "n" in caught.value.message
    assert mesh.upstream_requests(kind) == []


async def test_cached_tokens_arrive_in_openai_shape(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI
) -> None:
    """prompt_tokens counts cached tokens too; Anthropic reports them apart from input_tokens."""
    mesh.fake(kind).script.push(Reply(text="ok", usage=Usage(100, 5, cached_tokens=40)))
    reply = await client.chat.completions.create(model=client_model(kind), messages=MESSAGES)
    usage = reply.usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert usage.prompt_tokens == (140 if kind == "anthropic" else 100)
    assert usage.prompt_tokens_details.cached_tokens == 40
    assert usage.completion_tokens == 5
