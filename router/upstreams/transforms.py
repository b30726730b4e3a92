"""Answer transforms: how an upstream's answer body is rewritten on its way to the router.

A subscription speaks a client API on the wire but not quite as the client sent it (tool
names shortened or prefixed, a backend that always streams). What it has to undo is a
transform declared by that upstream; the replies here apply any transform the same way:

- ``TransformedStream``: an event stream, chunk by chunk (``AnswerTransform.feed``, then
  ``flush`` once the upstream's body ends), never handing out an empty chunk before the end.
  A failure the transform saw in the bytes (``failure``) is raised as UpstreamStreamError
  before anything more is read, so the router ends the client's stream with an error event.
- ``RewrittenWhole``: a whole answer, read to the end and rewritten once.
- ``assembled``: an event stream read to its end through a transform whose ``flush``
  gives the whole answer, for a client that did not ask for a stream from an upstream
  that always streams; an unfinished stream is an error answer, never a success.
- ``BufferedReply``: a body already in memory (an assembled answer, an error the upstream
  writes itself); ``CountedReply`` its base, for a reply that reports its close once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import aiohttp
from multidict import CIMultiDict

from router.formats import ErrorKind, Format, get_codec
from router.upstreams.base import UpstreamReply, UpstreamStreamError
from router.upstreams.faults import answer_too_large


class AnswerTransform(Protocol):
    """Rewrites a streamed answer; may hold bytes between calls (an event split in two)."""

    @property
    def failure(self) -> str | None:
        """Why the stream failed, once its bytes said so (safe to show the client)."""

    def feed(self, chunk: bytes) -> bytes:
        """The rewritten bytes of everything complete so far (``b""`` while incomplete)."""

    def flush(self) -> bytes:
        """What is left when the upstream's body ends."""


class _Rewritten(UpstreamReply):
    """A reply over another one: its status and headers, its body changed on the way."""

    __slots__ = ("_inner", "headers", "status")

    def __init__(self, inner: UpstreamReply) -> None:
        self._inner = inner
        self.status = inner.status
        self.headers = inner.headers

    def close(self) -> None:
        self._inner.close()


class TransformedStream(_Rewritten):
    """A streamed reply whose chunks come out through an AnswerTransform."""

    __slots__ = ("_ended", "_transform")

    def __init__(self, inner: UpstreamReply, transform: AnswerTransform) -> None:
        super().__init__(inner)
        self._transform = transform
        self._ended = False

    async def next_chunk(self) -> bytes:
        transform = self._transform
        while True:
            if transform.failure is not None:
                raise UpstreamStreamError(transform.failure)
            if self._ended:
                return b""
            chunk = await self._inner.next_chunk()
            if chunk:
                out = transform.feed(chunk)
            else:
                self._ended = True
                out = transform.flush()
            if out:
                return out


class RewrittenWhole(_Rewritten):
    """A whole answer read to the end, then handed out as one chunk through ``rewrite``."""

    __slots__ = ("_done", "_rewrite")

    def __init__(self, inner: UpstreamReply, rewrite: Callable[[bytes], bytes]) -> None:
        super().__init__(inner)
        self._rewrite = rewrite
        self._done = False

    async def next_chunk(self) -> bytes:
        if self._done:
            return b""
        parts: list[bytes] = []
        while chunk := await self._inner.next_chunk():
            parts.append(chunk)
        self._done = True
        return self._rewrite(b"".join(parts))


class CountedReply(UpstreamReply):
    """A reply that calls ``on_close`` (if any) exactly once, however often it is closed."""

    __slots__ = ("_on_close", "headers", "status")

    def __init__(
        self, status: int, headers: Mapping[str, str], on_close: Callable[[], None] | None
    ) -> None:
        self.status = status
        self.headers = headers
        self._on_close = on_close

    def close(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()


class BufferedReply(CountedReply):
    """A whole body already in memory."""

    __slots__ = ("_body",)

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(status, headers, on_close)
        self._body = body

    async def next_chunk(self) -> bytes:
        body, self._body = self._body, b""
        return body

    def close(self) -> None:
        self._body = b""
        super().close()


def json_reply(status: int, payload: Any) -> BufferedReply:
    """A JSON body the upstream writes itself."""
    headers = CIMultiDict({"Content-Type": "application/json"})
    return BufferedReply(status, headers, json.dumps(payload).encode())


def error_reply(wire_format: Format, status: int, message: str) -> BufferedReply:
    """An error in the wire format's own error shape (its codec's error body)."""
    kind = ErrorKind.TIMEOUT if status == 504 else ErrorKind.API_ERROR
    return json_reply(status, get_codec(wire_format).encode_error(status, message, kind))


async def assembled(
    reply: UpstreamReply,
    transform: AnswerTransform,
    *,
    idle: float,
    limit: int,
    upstream: str,
    wire_format: Format,
    awaited: str,
) -> UpstreamReply:
    """Read the whole stream (at most ``idle`` seconds between pieces) through
    ``transform`` and answer with what its ``flush`` gives: 200 JSON, else a 502 (504
    when the stream went silent) in the wire format's error shape. ``awaited`` names the
    event that finishes the stream, for those messages.

    A stream longer than ``limit`` bytes is answer-limit-mb's 502 (raised as ProxyError),
    read no further."""
    parts: list[bytes] = []
    size = 0
    try:
        while True:
            async with asyncio.timeout(idle):
                chunk = await reply.next_chunk()
            size += len(chunk)
            if size > limit:
                raise answer_too_large(upstream, limit)
            parts.append(transform.feed(chunk) if chunk else transform.flush())
            if not chunk:
                break
    except TimeoutError:
        return error_reply(wire_format, 504, f"upstream stream went silent before {awaited}")
    except (aiohttp.ClientError, OSError):
        return error_reply(wire_format, 502, f"upstream connection lost before {awaited}")
    finally:
        reply.close()
    if transform.failure is not None:
        return error_reply(wire_format, 502, transform.failure)
    headers = CIMultiDict({"Content-Type": "application/json"})
    return BufferedReply(200, headers, b"".join(parts))
