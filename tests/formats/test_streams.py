"""Streams: each upstream format through each client format, fed in small chunks
(split mid-line), the client bytes parsed back and checked for order, indices, ids,
usage and terminal events."""

from __future__ import annotations

import json

import pytest
from fmt_helpers import ctx, parse_sse, sse_bytes, translate_stream
from upstream_streams import UPSTREAM_STREAMS

from router.formats import ErrorKind, Format, SSEParser, get_codec
from router.formats.ir import BlockStart, BlockStop, Finish, MessageStart, StopReason, StreamError

UPSTREAMS = list(UPSTREAM_STREAMS)


def assemble_chat(raw: bytes) -> dict:
    events = parse_sse(raw)
    assert all(name is None for name, _ in events)
    assert events[-1][1] == "[DONE]"
    chunks = [d for _, d in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert {c["id"] for c in chunks} == {"chatcmpl-req123"}
    assert {c["model"] for c in chunks} == {"client-model"}
    text, reasoning, calls, finish = "", "", {}, None
    for c in chunks[:-1]:
        choice = c["choices"][0]
        assert finish is None, "content after finish_reason"
        delta = choice["delta"]
        text += delta.get("content") or ""
        reasoning += delta.get("reasoning_content") or ""
        for tc in delta.get("tool_calls") or ():
            if "id" in tc:
                assert tc["index"] == len(calls)
                calls[tc["index"]] = {"id": tc["id"], "name": tc["function"]["name"], "args": ""}
            calls[tc["index"]]["args"] += tc["function"].get("arguments", "")
        finish = choice["finish_reason"]
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    return {
        "text": text,
        "reasoning": reasoning,
        "calls": list(calls.values()),
        "finish": finish,
        "usage": usage_chunk["usage"],
    }


def assemble_anthropic(raw: bytes) -> dict:
    events = parse_sse(raw)
    names = [n for n, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    for name, data in events:
        assert data["type"] == name
    start = events[0][1]["message"]
    assert start["model"] == "client-model" and start["id"] == "msg_req123"
    blocks: list[dict] = []
    open_index = None
    for name, data in events[1:-2]:
        if name == "content_block_start":
            assert open_index is None and data["index"] == len(blocks)
            open_index = data["index"]
            blocks.append(dict(data["content_block"]))
        elif name == "content_block_delta":
            assert data["index"] == open_index
            b, d = blocks[open_index], data["delta"]
            key = {
                "text_delta": "text",
                "thinking_delta": "thinking",
                "signature_delta": "signature",
                "input_json_delta": "partial_json",
            }[d["type"]]
            b[key] = b.get(key, "") + d[key]
        else:
            assert name == "content_block_stop" and data["index"] == open_index
            open_index = None
    assert open_index is None
    delta = events[-2][1]
    return {"blocks": blocks, "stop_reason": delta["delta"]["stop_reason"], "usage": delta["usage"]}


def assemble_responses(raw: bytes) -> dict:
    events = parse_sse(raw)
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    for name, data in events:
        assert data["type"] == name
    names = [n for n, _ in events]
    assert names[:2] == ["response.created", "response.in_progress"]
    assert names[-1] == "response.completed"
    items: dict[int, dict] = {}
    for name, data in events[2:-1]:
        if name == "response.output_item.added":
            assert data["output_index"] == len(items)
            items[data["output_index"]] = {"added": data["item"], "delta": ""}
        elif name.endswith(".delta"):
            items[data["output_index"]]["delta"] += data["delta"]
        elif name == "response.output_item.done":
            items[data["output_index"]]["done"] = data["item"]
    final = events[-1][1]["response"]
    assert final["output"] == [items[i]["done"] for i in range(len(items))]
    assert final["model"] == "client-model"
    return {"items": [items[i] for i in range(len(items))], "final": final}


def assemble_gemini(raw: bytes) -> dict:
    events = parse_sse(raw)
    parts: list[dict] = []
    for _, data in events:
        parts.extend(data["candidates"][0]["content"]["parts"])
    last = events[-1][1]
    return {
        "parts": parts,
        "finish": last["candidates"][0]["finishReason"],
        "usage": last["usageMetadata"],
    }


@pytest.mark.parametrize("upstream", UPSTREAMS)
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_stream_to_chat_client(upstream: Format, chunk: int) -> None:
    _, raw = translate_stream(upstream, Format.OPENAI_CHAT, UPSTREAM_STREAMS[upstream], chunk)
    got = assemble_chat(raw)
    assert got["text"] == "Hello world"
    assert got["reasoning"] == "think"
    assert [(c["name"], json.loads(c["args"])) for c in got["calls"]] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert got["finish"] == "tool_calls"
    assert got["usage"]["prompt_tokens"] == 10
    assert got["usage"]["completion_tokens"] == 5
    assert got["usage"]["prompt_tokens_details"] == {"cached_tokens": 4}


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_stream_to_anthropic_client(upstream: Format) -> None:
    _, raw = translate_stream(upstream, Format.ANTHROPIC, UPSTREAM_STREAMS[upstream])
    got = assemble_anthropic(raw)
    kinds = [b["type"] for b in got["blocks"]]
    assert kinds[0] == "thinking" and got["blocks"][0]["thinking"] == "think"
    text = "".join(b.get("text", "") for b in got["blocks"] if b["type"] == "text")
    assert text == "Hello world"
    tool = [b for b in got["blocks"] if b["type"] == "tool_use"]
    assert len(tool) == 1 and tool[0]["name"] == "get_weather"
    assert json.loads(tool[0]["partial_json"]) == {"city": "Paris"}
    assert got["stop_reason"] == "tool_use"
    assert got["usage"]["input_tokens"] + got["usage"]["cache_read_input_tokens"] == 10
    assert got["usage"]["cache_read_input_tokens"] == 4
    assert got["usage"]["output_tokens"] == 5
    signature = got["blocks"][0]["signature"]
    if upstream is Format.ANTHROPIC:
        assert signature == "ANTHSIG"
    else:
        assert signature.startswith(f"xfmt:{upstream.value}:")


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_stream_to_responses_client(upstream: Format) -> None:
    _, raw = translate_stream(upstream, Format.OPENAI_RESPONSES, UPSTREAM_STREAMS[upstream])
    got = assemble_responses(raw)
    done = [i["done"] for i in got["items"]]
    assert done[0]["type"] == "reasoning" and done[0]["summary"][0]["text"] == "think"
    text = "".join(d["content"][0]["text"] for d in done if d["type"] == "message")
    assert text == "Hello world"
    calls = [d for d in done if d["type"] == "function_call"]
    assert [(c["name"], json.loads(c["arguments"])) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert calls[0]["id"].startswith("fc_") and calls[0]["call_id"]
    usage = got["final"]["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (10, 5)
    assert usage["input_tokens_details"]["cached_tokens"] == 4


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_stream_to_gemini_client(upstream: Format) -> None:
    _, raw = translate_stream(upstream, Format.GEMINI, UPSTREAM_STREAMS[upstream])
    got = assemble_gemini(raw)
    thoughts = "".join(p["text"] for p in got["parts"] if p.get("thought"))
    text = "".join(p.get("text", "") for p in got["parts"] if not p.get("thought"))
    assert thoughts == "think" and text == "Hello world"
    calls = [p["functionCall"] for p in got["parts"] if "functionCall" in p]
    assert [(c["name"], c["args"]) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert got["finish"] == "STOP"
    assert got["usage"]["promptTokenCount"] == 10
    assert got["usage"]["cachedContentTokenCount"] == 4
    assert got["usage"]["totalTokenCount"] == 15


def test_gemini_signature_on_function_call_survives_gemini_to_gemini() -> None:
    raw = sse_bytes(
        [
            (
                None,
                {
                    "candidates": [
                        {
                            "content": {
                                "role": "model",
                                "parts": [
                                    {
                                        "functionCall": {"name": "f", "args": {"a": 1}},
                                        "thoughtSignature": "S1",
                                    }
                                ],
                            },
                            "finishReason": "STOP",
                            "index": 0,
                        }
                    ],
                    "usageMetadata": {
                        "promptTokenCount": 1,
                        "candidatesTokenCount": 1,
                        "totalTokenCount": 2,
                    },
                },
            )
        ]
    )
    _, out = translate_stream(Format.GEMINI, Format.GEMINI, raw)
    parts = [p for _, d in parse_sse(out) for p in d["candidates"][0]["content"]["parts"]]
    assert {
        "functionCall": {"id": "call_req123_0", "name": "f", "args": {"a": 1}},
        "thoughtSignature": "S1",
    } in parts


def test_gemini_json_array_mode_streams_incrementally() -> None:
    c = ctx()
    c.sse = False
    enc = get_codec(Format.GEMINI).stream_encoder(c)
    dec = get_codec(Format.ANTHROPIC).stream_decoder(c)
    parser = SSEParser()
    pieces = [
        enc.encode(ev)
        for sse in parser.feed(UPSTREAM_STREAMS[Format.ANTHROPIC])
        for ev in dec.feed(sse)
    ]
    pieces = [p for p in pieces if p]
    assert pieces[0].startswith(b"[{") and all(p.startswith(b",") for p in pieces[1:])
    body = b"".join(pieces) + enc.finish()
    assert body.endswith(b"}]")
    chunks = json.loads(body)
    texts = [p.get("text", "") for ch in chunks for p in ch["candidates"][0]["content"]["parts"]]
    assert "Hello" in texts and " world" in texts
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_gemini_json_array_mode_empty_stream() -> None:
    c = ctx()
    c.sse = False
    assert get_codec(Format.GEMINI).stream_encoder(c).finish() == b"[]"


def test_each_delta_is_emitted_as_soon_as_its_chunk_arrives() -> None:
    c = ctx()
    dec = get_codec(Format.OPENAI_CHAT).stream_decoder(c)
    enc = get_codec(Format.ANTHROPIC).stream_encoder(c)
    parser = SSEParser()
    lines = UPSTREAM_STREAMS[Format.OPENAI_CHAT].split(b"\n\n")
    outputs = []
    for line in lines[:7]:
        out = b"".join(
            enc.encode(ev) for sse in parser.feed(line + b"\n\n") for ev in dec.feed(sse)
        )
        outputs.append(out)
    assert b'"thinking_delta","thinking":"think"' in outputs[1]
    assert b'"text":"Hello"' in outputs[2]
    assert b'"partial_json":"{\\"city\\":"' in outputs[5]


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_truncated_upstream_stream_becomes_error(upstream: Format) -> None:
    raw = UPSTREAM_STREAMS[upstream]
    cut = raw[: raw.index(b"Hello")]
    cut = cut[: cut.rindex(b"\n\n") + 2]
    events, out = translate_stream(upstream, Format.ANTHROPIC, cut)
    assert isinstance(events[-1], StreamError)
    assert not any(isinstance(e, Finish) for e in events)
    assert parse_sse(out)[-1][0] == "error"


def test_upstream_error_event_maps_kind() -> None:
    raw = sse_bytes(
        [
            (
                "error",
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            )
        ]
    )
    events, out = translate_stream(Format.ANTHROPIC, Format.OPENAI_CHAT, raw)
    assert events == [StreamError(529, "Overloaded", ErrorKind.OVERLOADED)]
    parsed = parse_sse(out)
    assert parsed == [
        (
            None,
            {
                "error": {
                    "message": "Overloaded",
                    "type": "server_error",
                    "param": None,
                    "code": "overloaded",
                }
            },
        )
    ]


def test_ir_events_from_chat_stream_are_sequential() -> None:
    events, _ = translate_stream(
        Format.OPENAI_CHAT, Format.OPENAI_CHAT, UPSTREAM_STREAMS[Format.OPENAI_CHAT]
    )
    assert isinstance(events[0], MessageStart)
    starts = [e for e in events if isinstance(e, BlockStart)]
    stops = [e for e in events if isinstance(e, BlockStop)]
    assert [s.index for s in starts] == [0, 1, 2] == [s.index for s in stops]
    assert [s.kind for s in starts] == ["reasoning", "text", "tool_call"]
    assert events[-1] == Finish(StopReason.TOOL_USE, events[-1].usage)
    assert events[-1].usage.reasoning_tokens == 2


def test_responses_mid_stream_error_keeps_sequence() -> None:
    c = ctx()
    enc = get_codec(Format.OPENAI_RESPONSES).stream_encoder(c)
    out = enc.encode(MessageStart("x", "m")) + enc.encode(
        StreamError(429, "slow down", ErrorKind.RATE_LIMIT)
    )
    parsed = parse_sse(out)
    assert [n for n, _ in parsed] == [
        "response.created",
        "response.in_progress",
        "error",
        "response.failed",
    ]
    assert [d["sequence_number"] for _, d in parsed] == [0, 1, 2, 3]
    assert parsed[2][1]["code"] == "rate_limit_exceeded"
    assert parsed[3][1]["response"]["status"] == "failed"
