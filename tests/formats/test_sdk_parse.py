"""The official SDKs parse our encoder output (streams and whole responses) offline,
through an in-memory HTTP transport: no socket is opened."""

from __future__ import annotations

import json

import anthropic
import httpx2
import openai
import pytest
from fmt_helpers import ctx, translate_stream
from upstream_streams import UPSTREAM_STREAMS

from router.formats import Format

UPSTREAMS = list(UPSTREAM_STREAMS)


def _transport(body: bytes, content_type: str = "text/event-stream") -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": content_type})

    return httpx2.MockTransport(handler)


def _openai(body: bytes) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="test",
        base_url="http://127.0.0.1:9/v1",
        http_client=httpx2.Client(transport=_transport(body)),
        max_retries=0,
    )


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_openai_sdk_parses_chat_stream(upstream: Format) -> None:
    _, raw = translate_stream(upstream, Format.OPENAI_CHAT, UPSTREAM_STREAMS[upstream])
    client = _openai(raw)
    stream = client.chat.completions.create(model="client-model", messages=[], stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello world"
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or ()]
    assert calls[0].function.name == "get_weather"
    assert "".join(tc.function.arguments or "" for tc in calls) == '{"city":"Paris"}'
    assert chunks[-1].usage.prompt_tokens == 10


def test_openai_sdk_stream_helper_accumulates_chat() -> None:
    _, raw = translate_stream(
        Format.ANTHROPIC, Format.OPENAI_CHAT, UPSTREAM_STREAMS[Format.ANTHROPIC]
    )
    client = _openai(raw)
    with client.chat.completions.stream(model="client-model", messages=[]) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Hello world"
    assert message.tool_calls[0].function.name == "get_weather"
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_openai_sdk_parses_responses_stream(upstream: Format) -> None:
    _, raw = translate_stream(upstream, Format.OPENAI_RESPONSES, UPSTREAM_STREAMS[upstream])
    client = _openai(raw)
    with client.responses.stream(model="client-model", input="hi") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert events[0].type == "response.created"
    assert final.output_text == "Hello world"
    calls = [o for o in final.output if o.type == "function_call"]
    assert calls[0].name == "get_weather" and json.loads(calls[0].arguments) == {"city": "Paris"}
    assert final.usage.input_tokens == 10


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_anthropic_sdk_parses_stream(upstream: Format) -> None:
    _, raw = translate_stream(upstream, Format.ANTHROPIC, UPSTREAM_STREAMS[upstream])
    client = anthropic.Anthropic(
        api_key="test",
        base_url="http://127.0.0.1:9",
        http_client=httpx2.Client(transport=_transport(raw)),
        max_retries=0,
    )
    with client.messages.stream(model="client-model", max_tokens=10, messages=[]) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content][-2:] == ["text", "tool_use"]
    assert final.content[0].type == "thinking" and final.content[0].thinking == "think"
    tool = final.content[-1]
    assert tool.name == "get_weather" and tool.input == {"city": "Paris"}
    assert final.stop_reason == "tool_use"
    assert final.usage.output_tokens == 5


def test_google_genai_sdk_parses_gemini_stream() -> None:
    from google.genai import types

    _, raw = translate_stream(
        Format.OPENAI_CHAT, Format.GEMINI, UPSTREAM_STREAMS[Format.OPENAI_CHAT]
    )
    chunks = [
        types.GenerateContentResponse.model_validate(json.loads(line[len(b"data: ") :]))
        for line in raw.split(b"\r\n\r\n")
        if line
    ]
    text = "".join(
        p.text or "" for c in chunks for p in c.candidates[0].content.parts if not p.thought
    )
    assert text == "Hello world"
    calls = [
        p.function_call for c in chunks for p in c.candidates[0].content.parts if p.function_call
    ]
    assert calls[0].name == "get_weather" and calls[0].args == {"city": "Paris"}
    assert chunks[-1].usage_metadata.total_token_count == 15
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_sdks_parse_non_stream_responses() -> None:
    from router.formats import get_codec
    from router.formats.ir import Response, StopReason, TextPart, ToolCallPart, Usage

    resp = Response(
        id="x",
        model="up",
        parts=[TextPart("Hi"), ToolCallPart("call_1", "f", '{"a":1}')],
        stop_reason=StopReason.TOOL_USE,
        usage=Usage(input_tokens=7, output_tokens=3),
    )
    c = ctx()
    chat = get_codec(Format.OPENAI_CHAT).encode_response(resp, c)
    parsed = openai.types.chat.ChatCompletion.model_validate(chat)
    assert parsed.choices[0].message.tool_calls[0].function.arguments == '{"a":1}'
    body = get_codec(Format.OPENAI_RESPONSES).encode_response(resp, c)
    parsed_r = openai.types.responses.Response.model_validate(body)
    assert parsed_r.output_text == "Hi"
    msg = get_codec(Format.ANTHROPIC).encode_response(resp, c)
    parsed_a = anthropic.types.Message.model_validate(msg)
    assert parsed_a.content[1].input == {"a": 1} and parsed_a.usage.input_tokens == 7
