"""Forwards an upstream stream to the client chunk by chunk, as it arrives.

A silent upstream gets ``: keep-alive`` comments every ``keepalive`` seconds; one silent
for longer than its idle timeout, or one that dies mid-stream, ends the client stream with
an error event in the client's format. The upstream reply is closed on every exit path,
including the client going away (aiohttp cancels the handler), so nothing outlives the
request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import web

from router.errors import ErrorKind, ProxyError
from router.routing.failover import Opened
from router.upstreams.base import UpstreamReply, UpstreamStreamError

KEEPALIVE = b": keep-alive\n\n"


class StreamTransform(Protocol):
    """Turns upstream stream bytes into client stream bytes; notes usage when it sees it."""

    usage: dict[str, int]

    def feed(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...

    def fail(self, error: ProxyError) -> bytes: ...


@dataclass
class StreamOutcome:
    """How a forwarded stream ended, for the request log line."""

    chunks: int = 0
    bytes_out: int = 0
    error: str | None = None
    client_gone: bool = False


async def forward_stream(
    request: web.Request,
    opened: Opened,
    transform: StreamTransform,
    *,
    keepalive: float,
    headers: dict[str, str],
    keepalive_comments: bool = True,
) -> tuple[web.StreamResponse, StreamOutcome]:
    """``keepalive_comments`` False (a JSON-array stream) waits silently instead."""
    outcome = StreamOutcome()
    reply = opened.reply
    idle = opened.candidate.upstream.timeouts.idle
    response = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            **headers,
        },
    )
    silence = SilenceTimer(min(keepalive, idle))
    try:
        await response.prepare(request)
        await _write(response, transform.feed(opened.first_chunk), outcome)
        silence.start()
        while True:
            try:
                chunk = await silence.read(reply)
            except (aiohttp.ClientError, OSError) as exc:
                message = (
                    f"upstream failed mid-stream: {exc}"
                    if isinstance(exc, UpstreamStreamError)
                    else "upstream connection lost mid-stream"
                )
                error = ProxyError(502, message, ErrorKind.API_ERROR)
                await _write(response, transform.fail(error), outcome)
                outcome.error = "upstream_lost"
                break
            if chunk is None:
                if silence.silent_for() >= idle:
                    error = ProxyError(504, "upstream stream went silent", ErrorKind.TIMEOUT)
                    await _write(response, transform.fail(error), outcome)
                    outcome.error = "idle_timeout"
                    break
                if keepalive_comments:
                    await _write(response, KEEPALIVE, outcome)
                continue
            if not chunk:
                await _write(response, transform.finish(), outcome)
                break
            silence.data_arrived()
            outcome.chunks += 1
            await _write(response, transform.feed(chunk), outcome)
        await response.write_eof()
    except ConnectionResetError:
        outcome.client_gone = True
    finally:
        silence.stop()
        reply.close()
    return response, outcome


class SilenceTimer:
    """Interrupts the stream's read when the upstream has been silent for ``interval``.

    asyncio.timeout() around every read would arm and cancel a timer per chunk; this keeps
    one timer per stream, re-armed only when it fires. It cancels the task only while the
    task waits for upstream data, and, like asyncio.timeout, tells its own interruption
    apart from a real cancellation (the client going away), which it never swallows.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._reading = False
        self._loop = asyncio.get_running_loop()
        self._last_data = self._loop.time()
        self._task: asyncio.Task[object] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._fired = False
        self._cancelling = 0

    def start(self) -> None:
        self._task = asyncio.current_task()
        assert self._task is not None
        self._cancelling = self._task.cancelling()
        self.data_arrived()
        self._handle = self._loop.call_at(self._last_data + self.interval, self._check)

    def data_arrived(self) -> None:
        self._last_data = self._loop.time()

    def silent_for(self) -> float:
        return self._loop.time() - self._last_data

    async def read(self, reply: UpstreamReply) -> bytes | None:
        """The next chunk (``b""`` at the end), or None when ``interval`` passed in silence."""
        self._reading = True
        try:
            return await reply.next_chunk()
        except asyncio.CancelledError:
            if self._expired():
                return None
            raise
        finally:
            self._reading = False

    def _expired(self) -> bool:
        """After a CancelledError: True when it was this timer's doing (and undo it)."""
        if not self._fired or self._task is None:
            return False
        self._fired = False
        return self._task.uncancel() <= self._cancelling

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        now = self._loop.time()
        due = self._last_data + self.interval
        if now >= due and self._reading and self._task is not None:
            self._fired = True
            self._task.cancel()
            due = now + self.interval
        elif now >= due:
            due = now + self.interval
        self._handle = self._loop.call_at(due, self._check)


async def _write(response: web.StreamResponse, data: bytes, outcome: StreamOutcome) -> None:
    if data:
        outcome.bytes_out += len(data)
        await response.write(data)
