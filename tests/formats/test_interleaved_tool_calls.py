"""OpenAI Chat upstream streams whose parallel tool calls interleave their argument deltas
(alternating `index`), translated for every other client format: each client gets every
call, whole and with its own arguments."""

from __future__ import annotations

import json

import pytest
from fmt_helpers import ctx, parse_sse, sse_bytes, translate_stream
from test_streams import assemble_anthropic, assemble_chat, assemble_gemini, assemble_responses

from router.formats import Format, SSEParser, get_codec
from router.formats.ir import BlockStart, StreamError, ToolArgsDelta


def _chunk(delta: dict, finish: str | None = None) -> tuple[None, dict]:
    return (
        None,
        {
            "id": "chatcmpl-up",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-up",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        },
    )


def _call(index: int, arguments: str, call_id: str | None = None, name: str | None = None):
    call: dict = {"index": index, "function": {"arguments": arguments}}
    if call_id is not None:
        call.update(id=call_id, type="function")
        call["function"]["name"] = name
    return call


def _stream(deltas: list[list[dict]]) -> bytes:
    usage = {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21}
    return sse_bytes(
        [_chunk({"role": "assistant", "content": None})]
        + [_chunk({"tool_calls": calls}) for calls in deltas]
        + [
            _chunk({}, "tool_calls"),
            (None, {"id": "chatcmpl-up", "choices": [], "usage": usage}),
            (None, "[DONE]"),
        ]
    )


# Both calls announced in one chunk, then their argument deltas alternate.
HEADERS_FIRST = _stream(
    [
        [_call(0, "", "call_w", "get_weather"), _call(1, "", "call_t", "get_time")],
        [_call(0, '{"city":')],
        [_call(1, '{"tz":')],
        [_call(0, '"Paris"}')],
        [_call(1, '"CET"}')],
    ]
)
# Each call announced with its first fragment; fragments split mid-key and mid-string.
HEADERS_WITH_ARGS = _stream(
    [
        [_call(0, '{"ci', "call_w", "get_weather")],
        [_call(1, '{"t', "call_t", "get_time")],
        [_call(0, 'ty":"Par')],
        [_call(1, 'z":"CET"}')],
        [_call(0, 'is"}')],
    ]
)
# Three calls round-robin, two fragments each, one chunk carrying two calls' deltas.
THREE_CALLS = _stream(
    [
        [_call(0, '{"city":', "call_w", "get_weather")],
        [_call(1, '{"tz":', "call_t", "get_time"), _call(2, '{"q":', "call_s", "search")],
        [_call(0, '"Paris"}')],
        [_call(2, '"news"}'), _call(1, '"CET"}')],
    ]
)
TWO = [("call_w", "get_weather", {"city": "Paris"}), ("call_t", "get_time", {"tz": "CET"})]
THREE = [*TWO, ("call_s", "search", {"q": "news"})]
CASES = [
    pytest.param(HEADERS_FIRST, TWO, id="headers-first"),
    pytest.param(HEADERS_WITH_ARGS, TWO, id="headers-with-args"),
    pytest.param(THREE_CALLS, THREE, id="three-calls"),
]


def _by_id(calls: list[tuple[str, str, dict]]) -> dict[str, tuple[str, dict]]:
    return {call_id: (name, args) for call_id, name, args in calls}


@pytest.mark.parametrize(("raw", "expected"), CASES)
@pytest.mark.parametrize("chunk", [1, 4096])
def test_anthropic_client_gets_every_interleaved_call(raw: bytes, expected, chunk: int) -> None:
    _, out = translate_stream(Format.OPENAI_CHAT, Format.ANTHROPIC, raw, chunk)
    got = assemble_anthropic(out)
    calls = [
        (b["id"], b["name"], json.loads(b["partial_json"]))
        for b in got["blocks"]
        if b["type"] == "tool_use"
    ]
    assert _by_id(calls) == _by_id(expected)
    assert len(calls) == len(expected)
    assert got["stop_reason"] == "tool_use"
    assert got["usage"]["output_tokens"] == 9


@pytest.mark.parametrize(("raw", "expected"), CASES)
@pytest.mark.parametrize("chunk", [1, 4096])
def test_responses_client_gets_every_interleaved_call(raw: bytes, expected, chunk: int) -> None:
    _, out = translate_stream(Format.OPENAI_CHAT, Format.OPENAI_RESPONSES, raw, chunk)
    got = assemble_responses(out)
    calls = []
    for item in got["items"]:
        done = item["done"]
        assert done["type"] == "function_call"
        assert json.loads(item["delta"]) == json.loads(done["arguments"])
        calls.append((done["call_id"], done["name"], json.loads(done["arguments"])))
    assert _by_id(calls) == _by_id(expected)
    assert len(calls) == len(expected)
    assert got["final"]["status"] == "completed"


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_chat_and_gemini_clients_get_every_interleaved_call(raw: bytes, expected) -> None:
    _, out = translate_stream(Format.OPENAI_CHAT, Format.OPENAI_CHAT, raw)
    chat = assemble_chat(out)
    assert _by_id([(c["id"], c["name"], json.loads(c["args"])) for c in chat["calls"]]) == _by_id(
        expected
    )
    _, out = translate_stream(Format.OPENAI_CHAT, Format.GEMINI, raw)
    gemini = assemble_gemini(out)
    calls = [p["functionCall"] for p in gemini["parts"] if "functionCall" in p]
    assert _by_id([(c["id"], c["name"], c["args"]) for c in calls]) == _by_id(expected)


def test_sequential_calls_still_stream_each_delta_as_it_arrives() -> None:
    raw = _stream(
        [
            [_call(0, "", "call_w", "get_weather")],
            [_call(0, '{"city":')],
            [_call(0, '"Paris"}')],
            [_call(1, "", "call_t", "get_time")],
            [_call(1, '{"tz":')],
            [_call(1, '"CET"}')],
        ]
    )
    decoder = get_codec(Format.OPENAI_CHAT).stream_decoder(ctx())
    parser = SSEParser()
    per_chunk = [
        [ev for sse in parser.feed(piece + b"\n\n") for ev in decoder.feed(sse)]
        for piece in raw.split(b"\n\n")
        if piece
    ]
    # chunk 0 is the role; chunks 1..6 are the tool-call deltas above.
    assert [type(e) for e in per_chunk[1]] == [BlockStart]
    assert per_chunk[2] == [ToolArgsDelta(0, '{"city":')]
    assert per_chunk[3] == [ToolArgsDelta(0, '"Paris"}')]
    assert isinstance(per_chunk[4][-1], BlockStart) and per_chunk[4][-1].name == "get_time"
    assert per_chunk[5] == [ToolArgsDelta(1, '{"tz":')]


def test_arguments_for_an_ended_call_are_an_error_not_dropped() -> None:
    raw = sse_bytes(
        [
            _chunk({"tool_calls": [_call(0, '{"city":"Paris"}', "call_w", "get_weather")]}),
            _chunk({"content": "and then"}),
            _chunk({"tool_calls": [_call(0, ',"unit":"c"}')]}),
            _chunk({}, "tool_calls"),
            (None, "[DONE]"),
        ]
    )
    events, out = translate_stream(Format.OPENAI_CHAT, Format.ANTHROPIC, raw)
    assert isinstance(events[-1], StreamError)
    assert "already ended" in events[-1].message
    assert parse_sse(out)[-1][0] == "error"
