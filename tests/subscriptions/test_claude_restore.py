"""Restoring client tool names in Anthropic answers: whole messages and SSE streams."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from router.formats.sse import SSEParser
from router.subscriptions.claude.restore import (
    RestoredMessageReply,
    RestoredStreamReply,
    StreamRestorer,
    restore_message,
)
from router.subscriptions.claude.toolnames import ToolNameMap
from router.upstreams.base import UpstreamReply

LONG = "mcp__workspace__search_the_entire_repository_for_matching_symbols_quickly"


def names() -> ToolNameMap:
    mapping = ToolNameMap("proxy_")
    for name in ("get_weather", "get_time", LONG):
        mapping.outbound(name)
    return mapping


def sse(kind: str, eol: str = "\n", **fields: object) -> bytes:
    data = json.dumps({"type": kind, **fields})
    return f"event: {kind}{eol}data: {data}{eol}{eol}".encode()


def tool_start(index: int, name: str, eol: str = "\n") -> bytes:
    block = {"type": "tool_use", "id": f"toolu_{index}", "name": name, "input": {}}
    return sse("content_block_start", eol, index=index, content_block=block)


def stream(upstream_names: list[str], eol: str = "\n") -> bytes:
    parts = [sse("message_start", eol, message={"content": [], "role": "assistant"})]
    parts.append(sse("content_block_start", eol, index=0, content_block={"type": "text"}))
    parts.append(sse("content_block_delta", eol, index=0, delta={"text": "tool_use soon"}))
    parts.append(sse("content_block_stop", eol, index=0))
    parts.append(b": comment" + eol.encode())
    for i, name in enumerate(upstream_names, start=1):
        parts.append(tool_start(i, name, eol))
        parts.append(sse("content_block_delta", eol, index=i, delta={"partial_json": "{}"}))
        parts.append(sse("content_block_stop", eol, index=i))
    parts.append(sse("message_delta", eol, delta={"stop_reason": "tool_use"}))
    parts.append(sse("message_stop", eol))
    return b"".join(parts)


def tool_names_in(raw: bytes) -> list[str]:
    parser = SSEParser()
    events = parser.feed(raw) + parser.close()
    names_seen = []
    for event in events:
        payload = json.loads(event.data)
        block = payload.get("content_block") or {}
        if block.get("type") == "tool_use":
            names_seen.append(block["name"])
    return names_seen


def run(restorer: StreamRestorer, chunks: list[bytes]) -> bytes:
    return b"".join(restorer.feed(c) for c in chunks) + restorer.flush()


def test_parallel_tool_calls_are_each_restored_and_other_bytes_untouched() -> None:
    mapping = names()
    upstream = [mapping.outbound(n) for n in ("get_weather", "get_time", LONG)]
    raw = stream(upstream)
    out = run(StreamRestorer(mapping), [raw])
    assert tool_names_in(raw) == upstream
    assert tool_names_in(out) == ["get_weather", "get_time", LONG]
    restored_events = out.split(b"\n\n")
    original_events = raw.split(b"\n\n")
    assert len(restored_events) == len(original_events)
    for before, after in zip(original_events, restored_events, strict=True):
        if b'"tool_use", "id"' in before:
            assert before != after
        else:
            assert before == after


def test_one_byte_chunks_restore_the_same_bytes() -> None:
    mapping = names()
    raw = stream([mapping.outbound("get_weather"), mapping.outbound(LONG)])
    whole = run(StreamRestorer(mapping), [raw])
    restorer = StreamRestorer(mapping)
    pieces = [restorer.feed(raw[i : i + 1]) for i in range(len(raw))]
    assert b"".join(pieces) + restorer.flush() == whole
    assert tool_names_in(whole) == ["get_weather", LONG]
    assert sum(1 for p in pieces if p) > 5


@given(st.lists(st.integers(min_value=1, max_value=len(stream(["proxy_get_time"]))), max_size=30))
def test_any_split_restores_like_the_whole(cuts: list[int]) -> None:
    mapping = names()
    for eol in ("\n", "\r\n", "\r"):
        raw = stream([mapping.outbound("get_time")], eol)
        points = sorted({min(c, len(raw)) for c in cuts})
        chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
        out = run(StreamRestorer(mapping), chunks)
        assert out == run(StreamRestorer(mapping), [raw])
        assert tool_names_in(out) == ["get_time"]


def test_crlf_split_between_cr_and_lf_keeps_the_event_whole() -> None:
    mapping = names()
    raw = tool_start(1, "proxy_get_weather", "\r\n")
    cut = raw.index(b"\r\n\r\n") + 1
    restorer = StreamRestorer(mapping)
    first = restorer.feed(raw[:cut])
    assert first == b""
    out = first + restorer.feed(raw[cut:]) + restorer.flush()
    assert out.endswith(b"\r\n\r\n")
    assert tool_names_in(out) == ["get_weather"]


def test_unknown_names_and_other_events_pass_unchanged() -> None:
    raw = tool_start(0, "web_search") + sse("ping") + tool_start(1, "proxy_unknown")
    assert run(StreamRestorer(names()), [raw]) == raw


def test_unterminated_last_event_is_still_restored_on_flush() -> None:
    raw = tool_start(0, "proxy_get_weather").rstrip(b"\n")
    restorer = StreamRestorer(names())
    assert restorer.feed(raw) == b""
    assert tool_names_in(restorer.flush()) == ["get_weather"]


def test_multiline_data_field_is_rewritten_as_one_line() -> None:
    payload = {"type": "content_block_start", "index": 0,
               "content_block": {"type": "tool_use", "id": "t", "name": "proxy_get_time",
                                 "input": {}}}  # fmt: skip
    text = json.dumps(payload, indent=1)
    raw = (
        b"event: content_block_start\n"
        + b"".join(b"data: " + line.encode() + b"\n" for line in text.split("\n"))
        + b"\n"
    )
    out = run(StreamRestorer(names()), [raw])
    assert tool_names_in(out) == ["get_time"]
    assert out.startswith(b"event: content_block_start\ndata: {")
    assert out.count(b"data:") == 1


def test_restore_message_restores_every_tool_use() -> None:
    mapping = names()
    body = {
        "type": "message",
        "content": [
            {"type": "text", "text": "calling proxy_get_weather"},
            {"type": "tool_use", "id": "a", "name": "proxy_get_weather", "input": {}},
            {"type": "tool_use", "id": "b", "name": mapping.outbound(LONG), "input": {}},
            {"type": "server_tool_use", "id": "c", "name": "web_search", "input": {}},
        ],
    }
    out = json.loads(restore_message(json.dumps(body).encode(), mapping))
    assert [b.get("name") for b in out["content"]] == [None, "get_weather", LONG, "web_search"]
    assert out["content"][0]["text"] == "calling proxy_get_weather"


def test_restore_message_leaves_other_bodies_alone() -> None:
    for raw in (b"not json", b"[]", b'{"type":"error"}', b'{"content":[{"type":"text"}]}'):
        assert restore_message(raw, names()) is raw


class ScriptedReply(UpstreamReply):
    def __init__(self, chunks: list[bytes]) -> None:
        self.status = 200
        self.headers = {"Content-Type": "text/event-stream"}
        self._chunks = list(chunks)
        self.closed = False

    async def next_chunk(self) -> bytes:
        return self._chunks.pop(0) if self._chunks else b""

    def close(self) -> None:
        self.closed = True


async def drain(reply: UpstreamReply) -> list[bytes]:
    chunks = []
    while chunk := await reply.next_chunk():
        chunks.append(chunk)
    return chunks


async def test_stream_reply_never_returns_an_empty_chunk_before_the_end() -> None:
    raw = stream(["proxy_get_weather"])
    inner = ScriptedReply([raw[i : i + 3] for i in range(0, len(raw), 3)])
    reply = RestoredStreamReply(inner, names())
    chunks = await drain(reply)
    assert all(chunks)
    assert tool_names_in(b"".join(chunks)) == ["get_weather"]
    assert await reply.next_chunk() == b""
    reply.close()
    assert inner.closed


async def test_message_reply_reads_the_whole_body_then_restores() -> None:
    body = json.dumps(
        {"content": [{"type": "tool_use", "id": "a", "name": "proxy_get_time", "input": {}}]}
    ).encode()
    inner = ScriptedReply([body[:7], body[7:20], body[20:]])
    reply = RestoredMessageReply(inner, names())
    chunks = await drain(reply)
    assert len(chunks) == 1
    assert json.loads(chunks[0])["content"][0]["name"] == "get_time"
    assert reply.status == 200 and reply.headers is inner.headers
