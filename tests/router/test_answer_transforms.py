"""Answer transforms (router/upstreams/transforms.py) and the replies that apply them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from router.errors import ProxyError
from router.formats import Format
from router.subscriptions.chatgpt.replies import CodexEvents
from router.subscriptions.chatgpt.toolnames import ToolNames
from router.upstreams.base import UpstreamReply, UpstreamStreamError
from router.upstreams.transforms import (
    BufferedReply,
    RewrittenWhole,
    TransformedStream,
    assembled,
)


class ScriptedReply(UpstreamReply):
    """Hands out its chunks one by one and counts the reads."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.status = 200
        self.headers = {"Content-Type": "text/event-stream"}
        self._chunks = list(chunks)
        self.reads = 0
        self.closed = False

    async def next_chunk(self) -> bytes:
        self.reads += 1
        return self._chunks.pop(0) if self._chunks else b""

    def close(self) -> None:
        self.closed = True


class Lines:
    """A transform that forwards whole lines, upper-cased, and fails on a line ``FAIL``."""

    def __init__(self) -> None:
        self.failure: str | None = None
        self._held = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._held + chunk
        complete, _, self._held = data.rpartition(b"\n")
        out = []
        for line in complete.split(b"\n") if complete else []:
            if line == b"FAIL":
                self.failure = "the upstream said FAIL"
                break
            out.append(line.upper() + b"\n")
        return b"".join(out)

    def flush(self) -> bytes:
        rest, self._held = self._held, b""
        return rest.upper()


async def drain(reply: UpstreamReply) -> list[bytes]:
    chunks = []
    while chunk := await reply.next_chunk():
        chunks.append(chunk)
    return chunks


async def test_held_bytes_never_come_out_as_an_empty_chunk() -> None:
    inner = ScriptedReply([b"ab", b"c\nd", b"e\n", b"tail"])
    reply = TransformedStream(inner, Lines())
    assert await drain(reply) == [b"ABC\n", b"DE\n", b"TAIL"]
    assert await reply.next_chunk() == b""
    assert reply.status == 200 and reply.headers is inner.headers
    reply.close()
    assert inner.closed


async def test_a_failure_hands_out_what_came_before_then_raises_without_reading_on() -> None:
    inner = ScriptedReply([b"one\nFAIL\nthree\n", b"never read\n"])
    reply = TransformedStream(inner, Lines())
    assert await reply.next_chunk() == b"ONE\n"
    with pytest.raises(UpstreamStreamError, match="the upstream said FAIL"):
        await reply.next_chunk()
    assert inner.reads == 1
    with pytest.raises(UpstreamStreamError):
        await reply.next_chunk()


async def test_a_whole_answer_is_read_to_the_end_and_rewritten_once() -> None:
    inner = ScriptedReply([b"a", b"b", b"c"])
    reply = RewrittenWhole(inner, lambda body: body[::-1])
    assert await drain(reply) == [b"cba"]
    assert await reply.next_chunk() == b""


async def test_a_buffered_reply_reports_its_close_once() -> None:
    closes: list[int] = []
    reply = BufferedReply(502, {}, b"body", lambda: closes.append(1))
    assert await reply.next_chunk() == b"body"
    reply.close()
    reply.close()
    assert closes == [1]
    assert await reply.next_chunk() == b""


def codex_event(kind: str, **fields: object) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}\n\n".encode()


async def test_codex_events_split_anywhere_come_out_whole_with_names_restored() -> None:
    names = ToolNames()
    short = names.shorten("mcp__" + "x" * 80)
    raw = codex_event(
        "response.output_item.added", item={"type": "function_call", "name": short}
    ) + codex_event("response.completed", response={"status": "completed"})
    inner = ScriptedReply([raw[i : i + 5] for i in range(0, len(raw), 5)])
    out = b"".join(await drain(TransformedStream(inner, CodexEvents(names))))
    assert short != "mcp__" + "x" * 80
    assert ("mcp__" + "x" * 80).encode() in out
    assert f'"{short}"'.encode() not in out
    assert out.count(b"event: ") == 2


async def test_a_codex_stream_without_its_terminal_event_fails_after_its_last_event() -> None:
    inner = ScriptedReply([codex_event("response.output_text.delta", delta="hi")])
    reply = TransformedStream(inner, CodexEvents(ToolNames()))
    assert b'"delta": "hi"' in await reply.next_chunk()
    with pytest.raises(UpstreamStreamError, match=r"ended before response\.completed"):
        await reply.next_chunk()


class Collect:
    """A whole-answer transform: everything in one JSON object; no ``END`` is a failure."""

    def __init__(self) -> None:
        self.failure: str | None = None
        self._parts: list[bytes] = []

    def feed(self, chunk: bytes) -> bytes:
        self._parts.append(chunk)
        return b""

    def flush(self) -> bytes:
        text = b"".join(self._parts).decode()
        if not text.endswith("END"):
            self.failure = "the stream never said END"
            return b""
        return json.dumps({"text": text}).encode()


class SilentReply(ScriptedReply):
    async def next_chunk(self) -> bytes:
        if self._chunks:
            return await super().next_chunk()
        await asyncio.sleep(10)
        return b""


def assemble(reply: UpstreamReply, limit: int = 1000) -> Any:
    return assembled(
        reply,
        Collect(),
        idle=0.05,
        limit=limit,
        upstream="up",
        wire_format=Format.OPENAI_RESPONSES,
        awaited="END",
    )


async def test_an_assembled_answer_is_what_flush_gives_as_one_json_reply() -> None:
    inner = ScriptedReply([b"hel", b"lo END"])
    reply = await assemble(inner)
    assert (reply.status, reply.headers["Content-Type"]) == (200, "application/json")
    assert json.loads(await reply.next_chunk()) == {"text": "hello END"}
    assert inner.closed


async def test_an_unfinished_assembly_is_a_502_in_the_wire_formats_error_shape() -> None:
    reply = await assemble(ScriptedReply([b"hello"]))
    assert reply.status == 502
    error = json.loads(await reply.next_chunk())["error"]
    assert error["message"] == "the stream never said END"
    assert error["type"] == "server_error"


async def test_a_silent_stream_is_a_504_naming_what_never_came() -> None:
    inner = SilentReply([b"hel"])
    reply = await assemble(inner)
    assert reply.status == 504
    assert "went silent before END" in json.loads(await reply.next_chunk())["error"]["message"]
    assert inner.closed


async def test_a_stream_over_the_limit_is_the_answer_limit_error_read_no_further() -> None:
    inner = ScriptedReply([b"x" * 600, b"y" * 600, b"never read"])
    with pytest.raises(ProxyError) as raised:
        await assemble(inner, limit=1000)
    assert raised.value.status == 502
    assert inner.reads == 2 and inner.closed
