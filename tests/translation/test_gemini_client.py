"""The official google-genai SDK against every upstream kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from google import genai
from google.genai import errors, types

from router.formats import Format, estimate_tokens, get_codec
from tests.fakes.anthropic import input_text
from tests.fakes.base import estimate_tokens as fake_estimate
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
async def client(mesh: Mesh) -> AsyncIterator[genai.client.AsyncClient]:
    sdk = genai.Client(
        api_key="unused",
        http_options=types.HttpOptions(
            base_url=mesh.url, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )
    yield sdk.aio
    await sdk.aio.aclose()


def tool_name_for(kind: str) -> str:
    """Over 64 characters where the router translates (shortened and restored); a
    same-format upstream receives the client's body as is, so it gets an ordinary name."""
    return "get_weather" if kind == "gemini" else LONG_TOOL_NAME


def config(name: str | None = None, **extra: Any) -> types.GenerateContentConfig:
    tools = None
    if name is not None:
        tools = [
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name=name, description="Weather", parameters_json_schema=WEATHER_SCHEMA
                    ),
                    types.FunctionDeclaration(name="get_time"),
                ]
            )
        ]
    return types.GenerateContentConfig(
        system_instruction=SYSTEM_PROMPT,
        tools=tools,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        **extra,
    )


async def test_text_usage_system_and_stop(
    mesh: Mesh, kind: str, client: genai.client.AsyncClient
) -> None:
    mesh.fake(kind).script.push(Reply(text="Sunny.", usage=Usage(30, 3)))
    reply = await client.models.generate_content(
        model=client_model(kind), contents=QUESTION, config=config()
    )
    assert reply.text == "Sunny."
    assert reply.candidates[0].finish_reason == types.FinishReason.STOP
    usage = reply.usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count) == (30, 3)
    assert usage.total_token_count == 33
    assert upstream_system(kind, mesh.upstream_requests(kind)[-1]) == SYSTEM_PROMPT


async def test_max_tokens_stop_reason(
    mesh: Mesh, kind: str, client: genai.client.AsyncClient
) -> None:
    mesh.fake(kind).script.push(Reply(text="Sun", stop_reason=MAX_TOKENS_STOP[kind]))
    reply = await client.models.generate_content(
        model=client_model(kind), contents=QUESTION, config=config(max_output_tokens=1)
    )
    assert reply.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS


async def test_streamed_text(mesh: Mesh, kind: str, client: genai.client.AsyncClient) -> None:
    mesh.fake(kind).script.push(Stream(chunks=4, usage=Usage(12, 4)))
    deltas, last = [], None
    async for chunk in await client.models.generate_content_stream(
        model=client_model(kind), contents=QUESTION, config=config()
    ):
        if chunk.text:
            deltas.append(chunk.text)
        last = chunk
    assert "".join(deltas) == "w0 w1 w2 w3" and len(deltas) >= 4
    assert last is not None and last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata.candidates_token_count == 4


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "stream"])
async def test_parallel_function_calls_round_trip(
    mesh: Mesh, kind: str, streamed: bool, client: genai.client.AsyncClient
) -> None:
    name = tool_name_for(kind)
    reply_type = Stream if streamed else Reply
    mesh.fake(kind).script.push(
        reply_type(
            text="", tool_calls=[ToolCall(name, {"city": "Paris"}), ToolCall("get_time", {})]
        ),
        reply_type(text="18C at 14:05."),
    )
    contents: list[types.Content] = [
        types.Content(role="user", parts=[types.Part.from_text(text=QUESTION)])
    ]
    model_parts: list[types.Part] = []
    if streamed:
        async for chunk in await client.models.generate_content_stream(
            model=client_model(kind), contents=contents, config=config(name)
        ):
            if chunk.candidates and chunk.candidates[0].content:
                model_parts += chunk.candidates[0].content.parts or []
    else:
        reply = await client.models.generate_content(
            model=client_model(kind), contents=contents, config=config(name)
        )
        model_parts = reply.candidates[0].content.parts
    calls = [p.function_call for p in model_parts if p.function_call]
    assert [c.name for c in calls] == [name, "get_time"]
    assert [c.args for c in calls] == [{"city": "Paris"}, {}]
    sent_tools = upstream_tools(kind, mesh.upstream_requests(kind)[-1])
    assert len(sent_tools) == 2 and all(len(n) <= 64 for n in sent_tools)
    weather = next(schema for n, schema in sent_tools.items() if n != "get_time")
    assert weather["required"] == ["city"]

    contents.append(types.Content(role="model", parts=model_parts))
    contents.append(
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        id=call.id, name=call.name, response={"result": answer}
                    )
                )
                for call, answer in zip(calls, ["18C", "14:05"], strict=True)
            ],
        )
    )
    final = await client.models.generate_content(
        model=client_model(kind), contents=contents, config=config(name)
    )
    assert final.text == "18C at 14:05."
    delivered = upstream_tool_results(kind, mesh.upstream_requests(kind)[-1])
    assert len(delivered) == 2 and "18C" in delivered[0] and "14:05" in delivered[1]


async def test_upstream_400_is_gemini_400(
    mesh: Mesh, kind: str, client: genai.client.AsyncClient
) -> None:
    mesh.fake(kind).script.push(Status(400, "contents are too long"))
    with pytest.raises(errors.ClientError) as caught:
        await client.models.generate_content(model=client_model(kind), contents=QUESTION)
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"
    assert "contents are too long" in caught.value.message


async def test_mid_stream_error_raises(
    mesh: Mesh, kind: str, client: genai.client.AsyncClient
) -> None:
    mesh.fake(kind).script.push(MidStreamError(after_chunks=2, message="Overloaded now"))
    seen = []
    with pytest.raises(errors.APIError) as caught:
        async for chunk in await client.models.generate_content_stream(
            model=client_model(kind), contents=QUESTION
        ):
            seen.append(chunk.text or "")
    assert "Overloaded now" in str(caught.value)
    assert "".join(seen) == "w0 w1"


async def test_count_tokens(mesh: Mesh, kind: str, client: genai.client.AsyncClient) -> None:
    """Exact from Gemini and Anthropic upstreams (their count), estimated for OpenAI ones."""
    counted = await client.models.count_tokens(model=client_model(kind), contents=QUESTION)
    fake = mesh.fake(kind)
    if kind == "gemini":
        asked = fake.last_request
        assert asked.path.endswith(":countTokens")
        contents = asked.json.get("contents") or asked.json["generateContentRequest"]["contents"]
        assert counted.total_tokens == fake_estimate(json.dumps(contents))
    elif kind == "anthropic":
        asked = fake.last_request
        assert asked.path == "/v1/messages/count_tokens"
        assert counted.total_tokens == fake_estimate(input_text(asked.json))
    else:
        assert fake.requests == []
        body = {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}]}
        decoded = get_codec(Format.GEMINI).decode_request(body)
        assert counted.total_tokens == estimate_tokens(decoded) > 0


async def test_json_array_stream(mesh: Mesh, kind: str, client: genai.client.AsyncClient) -> None:
    """streamGenerateContent without alt=sse answers one JSON array, whatever the upstream."""
    mesh.fake(kind).script.push(Stream(chunks=3))
    body = {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}]}
    url = f"{mesh.url}/v1beta/models/{client_model(kind)}:streamGenerateContent"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body, headers={"x-goog-api-key": "k"}) as response:
            assert response.status == 200
            chunks = json.loads(await response.read())
    assert isinstance(chunks, list)
    text = "".join(
        p.get("text", "") for c in chunks for p in c["candidates"][0]["content"]["parts"]
    )
    assert text == "w0 w1 w2"
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


async def test_passthrough_forwards_body_unchanged(
    mesh: Mesh, client: genai.client.AsyncClient
) -> None:
    """Gemini to Gemini: the body goes up as sent (the model is in the URL)."""
    body = {
        "contents": [{"role": "user", "parts": [{"text": QUESTION}]}],
        "systemInstruction": {"parts": [{"text": SYSTEM_PROMPT}]},
        "generationConfig": {
            "temperature": 0.3,
            "seed": 7,
            "thinkingConfig": {"thinkingBudget": 0},
        },
    }
    url = f"{mesh.url}/v1beta/models/{client_model('gemini')}:generateContent"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body) as response:
            assert response.status == 200
            answer = await response.json()
    received = mesh.gemini.last_request
    assert received.json == body
    assert received.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == f"echo: {QUESTION}"


async def test_candidate_count_to_other_format_is_400(
    mesh: Mesh, client: genai.client.AsyncClient
) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await client.models.generate_content(
            model=client_model("anthropic"),
            contents=QUESTION,
            config=types.GenerateContentConfig(candidate_count=2),
        )
    assert caught.value.code == 400
    assert mesh.anthropic.requests == []
