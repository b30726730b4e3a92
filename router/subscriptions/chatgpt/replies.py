"""The Codex backend's answers, reshaped for the router.

The backend always streams. A streaming client gets the events as they arrive (tool
names restored) through the ``CodexEvents`` answer transform; a stream that ends without
its terminal event, or fails, raises UpstreamStreamError (a ConnectionError) so the router
ends the client's stream with an error. A non-streaming
client gets the stream assembled into one response (the ``CodexAssembly`` transform), or
a 502 when it never completed.
A usage-limit 429 gets a Retry-After header saying when the quota resets.
"""

from __future__ import annotations

import asyncio
import json
import math
import time

from multidict import CIMultiDict

from router.formats import SSEEvent, SSEParser, encode_sse
from router.subscriptions.chatgpt.assemble import (
    FAILURE_EVENTS,
    TERMINAL_EVENTS,
    ResponseAssembler,
    StreamNotCompleted,
    failure_message,
)
from router.subscriptions.chatgpt.toolnames import ToolNames
from router.upstreams.base import UpstreamReply
from router.upstreams.transforms import BufferedReply

ERROR_BODY_LIMIT = 256 * 1024
# Event names whose data must be parsed when the stream has no ``event:`` lines.
_TYPE_MARKERS = ("response.completed", "response.incomplete", "response.failed", "error")
# Headers that describe the upstream's encoding of a body this module re-serialises.
_BODY_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})


def event_type(event: SSEEvent) -> str | None:
    """The event's name; the data is parsed only when there is no ``event:`` line and the
    data could be a terminal or failure event."""
    if event.event:
        return event.event
    if not any(marker in event.data for marker in _TYPE_MARKERS):
        return None
    try:
        payload = json.loads(event.data)
    except ValueError:
        return None
    kind = payload.get("type") if isinstance(payload, dict) else None
    return kind if isinstance(kind, str) else None


class CodexEvents:
    """The Codex stream's answer transform: events forwarded as they complete with
    shortened tool names restored; a failure event, or an end without a terminal event,
    is the stream's failure."""

    __slots__ = ("_names", "_parser", "_terminal", "failure")

    def __init__(self, names: ToolNames) -> None:
        self._names = names
        self._parser = SSEParser()
        self._terminal = False
        self.failure: str | None = None

    def feed(self, chunk: bytes) -> bytes:
        return self._convert(self._parser.feed(chunk))

    def flush(self) -> bytes:
        out = self._convert(self._parser.close())
        if not self._terminal and self.failure is None:
            self.failure = "the stream ended before response.completed"
        return out

    def _convert(self, events: list[SSEEvent]) -> bytes:
        out: list[bytes] = []
        for event in events:
            kind = event_type(event)
            if kind in FAILURE_EVENTS:
                self.failure = _failure_of(event.data)
                break
            if kind in TERMINAL_EVENTS:
                self._terminal = True
            data = self._names.restore_text(event.data) if self._names else event.data
            out.append(encode_sse(data, event.event))
        return b"".join(out)


def _failure_of(data: str) -> str:
    try:
        payload = json.loads(data)
    except ValueError:
        payload = None
    return failure_message(payload) if isinstance(payload, dict) else "upstream response failed"


class CodexAssembly:
    """The Codex stream's answer transform for a non-streaming client: every event (tool
    names restored) goes into one response, which ``flush`` gives as JSON; a stream that
    never completed is the failure (see ``ResponseAssembler``)."""

    __slots__ = ("_assembler", "_names", "_parser", "failure")

    def __init__(self, names: ToolNames) -> None:
        self._names = names
        self._parser = SSEParser()
        self._assembler = ResponseAssembler()
        self.failure: str | None = None

    def feed(self, chunk: bytes) -> bytes:
        for event in self._parser.feed(chunk):
            _feed(self._assembler, event, self._names)
        return b""

    def flush(self) -> bytes:
        for event in self._parser.close():
            _feed(self._assembler, event, self._names)
        try:
            return json.dumps(self._assembler.result()).encode()
        except StreamNotCompleted as exc:
            self.failure = exc.message
            return b""


def _feed(assembler: ResponseAssembler, event: SSEEvent, names: ToolNames) -> None:
    data = names.restore_text(event.data) if names else event.data
    try:
        payload = json.loads(data)
    except ValueError:
        return
    if not isinstance(payload, dict):
        return
    if "type" not in payload and event.event:
        payload["type"] = event.event
    assembler.feed(payload)


def quota_reset_seconds(body: bytes, now: float | None = None) -> float | None:
    """Seconds until a usage limit resets, from the backend's 429 body."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    seconds = error.get("resets_in_seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
        return float(seconds)
    resets_at = error.get("resets_at")
    if isinstance(resets_at, int | float) and not isinstance(resets_at, bool):
        return max(0.0, resets_at - (time.time() if now is None else now))
    return None


async def rate_limited_reply(reply: UpstreamReply, idle: float) -> UpstreamReply:
    """The 429 unchanged, plus ``Retry-After`` when its body says when the quota resets."""
    parts: list[bytes] = []
    size = 0
    try:
        while size < ERROR_BODY_LIMIT:
            async with asyncio.timeout(idle):
                chunk = await reply.next_chunk()
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
    finally:
        reply.close()
    body = b"".join(parts)
    headers = CIMultiDict(
        (name, value) for name, value in reply.headers.items() if name.lower() not in _BODY_HEADERS
    )
    seconds = quota_reset_seconds(body)
    if seconds is not None:
        headers["Retry-After"] = str(max(1, math.ceil(seconds)))
    return BufferedReply(reply.status, headers, body)
