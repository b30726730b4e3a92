"""The official openai SDK (Responses API) against every upstream kind."""

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

QUESTION = "Weather in Paris?"


@pytest.fixture
async def client(mesh: Mesh) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=mesh.url + "/v1", api_key="unused", max_retries=0
    ) as sdk:
        yield sdk


def tool_name_for(kind: str) -> str:
    """Over 64 characters where the router translates (shortened and restored); a
    same-format upstream receives the client's body as is, so it gets an ordinary name."""
    return "get_weather" if kind == "openai-responses" else LONG_TOOL_NAME


def tools(name: str) -> list[dict]:
    return [
        {"type": "function", "name": name, "parameters": WEATHER_SCHEMA, "strict": False},
        {"type": "function", "name": "get_time", "parameters": {"type": "object"}, "strict": False},
    ]


async def test_text_usage_instructions_and_status(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI
) -> None:
    mesh.fake(kind).script.push(Reply(text="Sunny.", usage=Usage(30, 3)))
    response = await client.responses.create(
        model=client_model(kind), instructions=SYSTEM_PROMPT, input=QUESTION
    )
    assert response.output_text == "Sunny."
    assert response.status == "completed"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (30, 3)
    assert upstream_system(kind, mesh.upstream_requests(kind)[-1]) == SYSTEM_PROMPT


async def test_max_tokens_is_incomplete(mesh: Mesh, kind: str, client: openai.AsyncOpenAI) -> None:
    mesh.fake(kind).script.push(Reply(text="Sun", stop_reason=MAX_TOKENS_STOP[kind]))
    response = await client.responses.create(
        model=client_model(kind), input=QUESTION, max_output_tokens=16
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"


async def test_streamed_text(mesh: Mesh, kind: str, client: openai.AsyncOpenAI) -> None:
    mesh.fake(kind).script.push(Stream(chunks=4, usage=Usage(12, 4)))
    deltas, final = [], None
    async with client.responses.stream(model=client_model(kind), input=QUESTION) as stream:
        async for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = await stream.get_final_response()
    assert "".join(deltas) == "w0 w1 w2 w3" and len(deltas) >= 4
    assert final.output_text == "w0 w1 w2 w3"
    assert final.usage is not None and final.usage.output_tokens == 4


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "stream"])
async def test_function_calls_round_trip(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI, streamed: bool
) -> None:
    name = tool_name_for(kind)
    reply_type = Stream if streamed else Reply
    mesh.fake(kind).script.push(
        reply_type(
            text="", tool_calls=[ToolCall(name, {"city": "Paris"}), ToolCall("get_time", {})]
        ),
        reply_type(text="18C at 14:05."),
    )
    args = {"model": client_model(kind), "input": QUESTION, "tools": tools(name)}
    if streamed:
        async with client.responses.stream(**args) as stream:
            first = await stream.get_final_response()
    else:
        first = await client.responses.create(**args)
    calls = [item for item in first.output if item.type == "function_call"]
    assert [c.name for c in calls] == [name, "get_time"]
    assert [json.loads(c.arguments) for c in calls] == [{"city": "Paris"}, {}]
    sent_tools = upstream_tools(kind, mesh.upstream_requests(kind)[-1])
    assert len(sent_tools) == 2 and all(len(n) <= 64 for n in sent_tools)
    weather = next(schema for n, schema in sent_tools.items() if n != "get_time")
    assert weather["required"] == ["city"]

    history = [
        {"role": "user", "content": QUESTION},
        *[c.model_dump(exclude_none=True) for c in calls],
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": "18C"},
        {"type": "function_call_output", "call_id": calls[1].call_id, "output": "14:05"},
    ]
    final = await client.responses.create(
        model=client_model(kind), input=history, tools=tools(name)
    )
    assert final.output_text == "18C at 14:05."
    delivered = upstream_tool_results(kind, mesh.upstream_requests(kind)[-1])
    assert len(delivered) == 2 and "18C" in delivered[0] and "14:05" in delivered[1]


async def test_upstream_400_is_openai_400(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI
) -> None:
    mesh.fake(kind).script.push(Status(400, "input is too long"))
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model=client_model(kind), input=QUESTION)
    assert "input is too long" in caught.value.message
    assert isinstance(caught.value.body, dict) and "message" in caught.value.body


async def test_mid_stream_error_fails_the_response(
    mesh: Mesh, kind: str, client: openai.AsyncOpenAI
) -> None:
    """The Responses SDK yields the failure as an event rather than raising it."""
    mesh.fake(kind).script.push(MidStreamError(after_chunks=2, message="Overloaded now"))
    stream = await client.responses.create(model=client_model(kind), input=QUESTION, stream=True)
    types, deltas, failure = [], [], None
    async for event in stream:
        types.append(event.type)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        if event.type == "response.failed":
            failure = event.response.error
    assert "".join(deltas) == "w0 w1"
    assert "response.completed" not in types
    assert failure is not None and "Overloaded now" in failure.message
    assert types[-1] == "response.failed"


async def test_stop_sequences_from_chat_client_to_responses_upstream_is_400(mesh: Mesh) -> None:
    async with openai.AsyncOpenAI(
        base_url=mesh.url + "/v1", api_key="unused", max_retries=0
    ) as chat:
        with pytest.raises(openai.BadRequestError) as caught:
            await chat.chat.completions.create(
                model=client_model("openai-responses"),
                messages=[{"role": "user", "content": QUESTION}],
                stop=["END"],
            )
    assert "stop" in caught.value.message.lower()
    assert mesh.upstream_requests("openai-responses") == []
