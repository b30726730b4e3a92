"""The official anthropic SDK (Messages) against every upstream kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import pytest

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

QUESTION = [{"role": "user", "content": "Weather in Paris?"}]


@pytest.fixture
async def client(mesh: Mesh) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(base_url=mesh.url, api_key="unused", max_retries=0) as sdk:
        yield sdk


def tool_name_for(kind: str) -> str:
    """Over 64 characters where the router translates (shortened and restored); a
    same-format upstream receives the client's body as is, so it gets an ordinary name."""
    return "get_weather" if kind == "anthropic" else LONG_TOOL_NAME


def tools(name: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "description": "Weather", "input_schema": WEATHER_SCHEMA},
        {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
    ]


async def test_text_usage_system_and_stop(
    mesh: Mesh, kind: str, client: anthropic.AsyncAnthropic
) -> None:
    mesh.fake(kind).script.push(Reply(text="Sunny.", usage=Usage(30, 3)))
    message = await client.messages.create(
        model=client_model(kind), max_tokens=100, system=SYSTEM_PROMPT, messages=QUESTION
    )
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "Sunny."
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (30, 3)
    assert upstream_system(kind, mesh.upstream_requests(kind)[-1]) == SYSTEM_PROMPT


async def test_max_tokens_stop_reason(
    mesh: Mesh, kind: str, client: anthropic.AsyncAnthropic
) -> None:
    mesh.fake(kind).script.push(Reply(text="Sun", stop_reason=MAX_TOKENS_STOP[kind]))
    message = await client.messages.create(
        model=client_model(kind), max_tokens=1, messages=QUESTION
    )
    assert message.stop_reason == "max_tokens"


async def test_streamed_text(mesh: Mesh, kind: str, client: anthropic.AsyncAnthropic) -> None:
    mesh.fake(kind).script.push(Stream(chunks=4, usage=Usage(12, 4)))
    deltas = []
    async with client.messages.stream(
        model=client_model(kind), max_tokens=100, messages=QUESTION
    ) as stream:
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                deltas.append(event.delta.text)
        final = await stream.get_final_message()
    assert "".join(deltas) == "w0 w1 w2 w3" and len(deltas) >= 4
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (12, 4)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "stream"])
async def test_tool_use_over_several_turns(
    mesh: Mesh, kind: str, client: anthropic.AsyncAnthropic, streamed: bool
) -> None:
    """Parallel calls, answered through the router; then a second round of calls."""
    name = tool_name_for(kind)
    reply_type = Stream if streamed else Reply
    mesh.fake(kind).script.push(
        reply_type(
            text="Checking.",
            tool_calls=[ToolCall(name, {"city": "Paris"}), ToolCall("get_time", {})],
        ),
        reply_type(text="", tool_calls=[ToolCall(name, {"city": "Lyon"})]),
        reply_type(text="Paris 18C, Lyon 20C."),
    )
    conversation: list[dict[str, Any]] = list(QUESTION)
    results = [["18C", "14:05"], ["20C"]]
    for turn, answers in enumerate(results):
        message = await ask(client, kind, conversation, tools(name), streamed)
        assert message.stop_reason == "tool_use"
        uses = [b for b in message.content if b.type == "tool_use"]
        assert len(uses) == len(answers)
        assert uses[0].name == name
        assert uses[0].input == {"city": "Paris" if turn == 0 else "Lyon"}
        if turn == 0:
            assert message.content[0].type == "text" and message.content[0].text == "Checking."
            assert uses[1].name == "get_time" and uses[1].input == {}
        conversation.append(
            {
                "role": "assistant",
                "content": [b.model_dump(exclude_none=True) for b in message.content],
            }
        )
        conversation.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": use.id, "content": answer}
                    for use, answer in zip(uses, answers, strict=True)
                ],
            }
        )
    final = await ask(client, kind, conversation, tools(name), streamed)
    assert final.stop_reason == "end_turn"
    assert final.content[0].text == "Paris 18C, Lyon 20C."

    sent = mesh.upstream_requests(kind)
    assert len(sent) == 3
    sent_tools = upstream_tools(kind, sent[0])
    assert len(sent_tools) == 2 and all(len(n) <= 64 for n in sent_tools)
    weather = next(schema for n, schema in sent_tools.items() if n != "get_time")
    assert weather["required"] == ["city"]
    delivered = upstream_tool_results(kind, sent[-1])
    assert [("18C" in delivered[0]), ("14:05" in delivered[1]), ("20C" in delivered[2])] == [
        True,
        True,
        True,
    ]


async def ask(
    client: anthropic.AsyncAnthropic,
    kind: str,
    conversation: list[dict[str, Any]],
    tool_list: list[dict[str, Any]],
    streamed: bool,
    **extra: Any,
) -> anthropic.types.Message:
    args = {
        "model": client_model(kind),
        "max_tokens": 4096,
        "messages": conversation,
        "tools": tool_list,
        **extra,
    }
    if not streamed:
        return await client.messages.create(**args)
    async with client.messages.stream(**args) as stream:
        return await stream.get_final_message()


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "stream"])
async def test_thinking_survives_a_tool_round_trip(
    mesh: Mesh, kind: str, client: anthropic.AsyncAnthropic, streamed: bool
) -> None:
    """Thinking (with the upstream's signature) goes back to the upstream, which verifies it."""
    reply_type = Stream if streamed else Reply
    mesh.fake(kind).script.push(
        reply_type(
            text="",
            reasoning="The user wants weather.",
            tool_calls=[ToolCall("get_weather", {"city": "Paris"})],
        ),
        reply_type(text="18C."),
    )
    thinking = {"type": "enabled", "budget_tokens": 2048}
    tool_list = tools("get_weather")
    first = await ask(client, kind, list(QUESTION), tool_list, streamed, thinking=thinking)
    kinds = [b.type for b in first.content]
    assert kinds[0] == "thinking" and kinds[-1] == "tool_use"
    block = first.content[0]
    assert block.thinking == "The user wants weather."
    if kind == "anthropic":
        assert block.signature == mesh.anthropic.sign("The user wants weather.")
    use = first.content[-1]
    conversation = [
        *QUESTION,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18C"}],
        },
    ]
    second = await ask(client, kind, conversation, tool_list, streamed, thinking=thinking)
    assert second.content[-1].text == "18C."
    sent = mesh.upstream_requests(kind)[-1]
    if kind == "anthropic":
        assert sent["messages"][1]["content"][0] == {
            "type": "thinking",
            "thinking": "The user wants weather.",
            "signature": mesh.anthropic.sign("The user wants weather."),
        }
    if kind == "gemini":
        call_part = next(p for p in sent["contents"][1]["parts"] if "functionCall" in p)
        assert mesh.gemini.signature_is_ours(call_part["thoughtSignature"])


async def test_upstream_400_is_anthropic_400(
    mesh: Mesh, kind: str, client: anthropic.AsyncAnthropic
) -> None:
    mesh.fake(kind).script.push(Status(400, "prompt is too long"))
    with pytest.raises(anthropic.BadRequestError) as caught:
        await client.messages.create(model=client_model(kind), max_tokens=10, messages=QUESTION)
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert "prompt is too long" in body["error"]["message"]


async def test_mid_stream_error_raises(
    mesh: Mesh, kind: str, client: anthropic.AsyncAnthropic
) -> None:
    mesh.fake(kind).script.push(MidStreamError(after_chunks=2, message="Overloaded now"))
    seen = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client.messages.stream(
            model=client_model(kind), max_tokens=100, messages=QUESTION
        ) as stream:
            async for text in stream.text_stream:
                seen.append(text)
    assert "Overloaded now" in str(caught.value)
    assert "".join(seen) == "w0 w1"


async def test_count_tokens(mesh: Mesh, kind: str, client: anthropic.AsyncAnthropic) -> None:
    """Exact from Anthropic and Gemini upstreams (their count), estimated for OpenAI ones."""
    request = {
        "model": client_model(kind),
        "system": SYSTEM_PROMPT,
        "messages": QUESTION,
        "tools": tools("get_weather"),
    }
    counted = await client.messages.count_tokens(**request)
    fake = mesh.fake(kind)
    if kind == "anthropic":
        asked = fake.last_request
        assert asked.path == "/v1/messages/count_tokens"
        assert counted.input_tokens == fake_estimate(input_text(asked.json))
    elif kind == "gemini":
        asked = fake.last_request
        assert asked.path.endswith(":countTokens")
        contents = asked.json["generateContentRequest"]["contents"]
        assert counted.input_tokens == fake_estimate(json.dumps(contents))
    else:
        assert fake.requests == []
        decoded = get_codec(Format.ANTHROPIC).decode_request(request)
        assert counted.input_tokens == estimate_tokens(decoded) > 0


async def test_passthrough_forwards_body_and_signature_unchanged(mesh: Mesh) -> None:
    """Anthropic to Anthropic: only the model changes on the way up; bytes come back as sent."""
    mesh.anthropic.script.push(Reply(text="Hi.", reasoning="Thinking about it."))
    body = {
        "model": client_model("anthropic"),
        "max_tokens": 3000,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "system": [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}],
        "messages": QUESTION,
        "metadata": {"user_id": "u-1"},
    }
    headers = {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "interleaved-thinking-2025-05-14",
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(mesh.url + "/v1/messages", json=body, headers=headers) as response:
            assert response.status == 200
            raw = await response.read()
    received = mesh.anthropic.last_request
    assert received.json == {**body, "model": "claude-sonnet-4-5-20250929"}
    assert received.headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    signature = mesh.anthropic.sign("Thinking about it.")
    assert json.dumps(signature).encode() in raw
    assert json.loads(raw)["content"][0]["signature"] == signature


async def test_streamed_passthrough_keeps_signature_bytes(mesh: Mesh) -> None:
    mesh.anthropic.script.push(Stream(text="Hi.", reasoning="Thinking about it."))
    body = {
        "model": client_model("anthropic"),
        "max_tokens": 3000,
        "stream": True,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": QUESTION,
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(
            mesh.url + "/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"}
        ) as response:
            raw = await response.read()
    expected = json.dumps(
        {"type": "signature_delta", "signature": mesh.anthropic.sign("Thinking about it.")},
        separators=(",", ":"),
    ).encode()
    assert expected in raw
    assert raw.count(b"event: message_stop") == 1


async def test_gemini_signature_reaches_the_client_tagged(
    mesh: Mesh, client: anthropic.AsyncAnthropic
) -> None:
    """A Gemini thought signature reaches an Anthropic client wrapped as xfmt:gemini:<sig>."""
    mesh.gemini.script.push(
        Reply(text="", reasoning="Hmm.", tool_calls=[ToolCall("get_weather", {"city": "Rome"})])
    )
    message = await ask(client, "gemini", list(QUESTION), tools("get_weather"), streamed=False)
    signatures = [b.signature for b in message.content if b.type == "thinking"]
    assert signatures and all(s.startswith("xfmt:gemini:") for s in signatures)
    assert all(mesh.gemini.signature_is_ours(s.removeprefix("xfmt:gemini:")) for s in signatures)


async def test_cached_tokens_arrive_in_anthropic_shape(
    mesh: Mesh, kind: str, client: anthropic.AsyncAnthropic
) -> None:
    """Anthropic's input_tokens excludes cache reads; the other formats include them."""
    mesh.fake(kind).script.push(Reply(text="ok", usage=Usage(100, 5, cached_tokens=40)))
    message = await client.messages.create(
        model=client_model(kind), max_tokens=10, messages=QUESTION
    )
    assert message.usage.input_tokens == (100 if kind == "anthropic" else 60)
    assert message.usage.cache_read_input_tokens == 40
    assert message.usage.output_tokens == 5
