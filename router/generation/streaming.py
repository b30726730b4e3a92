"""Forwards an upstream stream to the client chunk by chunk, as it arrives.

A silent upstream gets ``: keep-alive`` comments every ``keepalive`` seconds; one silent
for longer than its idle timeout, or one that dies mid-stream, ends the client stream with
an error event in the client's format. The upstream reply is closed on every exit path,
including the client going away (aiohttp cancels the handler), so nothing outlives the
request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import web

from router.errors import ErrorKind, ProxyError
from router.logs import log_fields
from router.routing.failover import Opened
from router.upstreams.base import UpstreamReply, UpstreamStreamError
from router.upstreams.faults import AnswerTooLarge, answer_too_large

KEEPALIVE = b": keep-alive\n\n"

log = logging.getLogger("router.generation.streaming")

# Stream endings that count against the upstream credential (routing/stream_deaths.py).
_DEATHS = frozenset({"upstream_lost", "idle_timeout", "bad_upstream_event", "truncated"})


class StreamTransform(Protocol):
    """Turns upstream stream bytes into client stream bytes; notes usage when it sees it.

    ``truncated`` is True once ``finish`` found the upstream stream cut short (the bytes
    it returned then end with an error event).
    """

    usage: dict[str, int]
    truncated: bool

    def feed(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...

    def fail(self, error: ProxyError) -> bytes: ...


@dataclass
class StreamOutcome:
    """How a forwarded stream ended, for the request log line.

    ``error`` names an upstream fault (``upstream_lost``, ``idle_timeout``,
    ``bad_upstream_event``, ``event_too_large``, ``truncated``); a client going away is
    ``client_gone`` instead.
    """

    chunks: int = 0
    error: str | None = None
    client_gone: bool = False

    @property
    def upstream_died(self) -> bool:
        """The upstream broke the stream (an answer over the size limit is not that)."""
        return not self.client_gone and self.error in _DEATHS


class _StreamEnded(Exception):
    """The upstream stream ended in a fault; ``error`` goes to the client as its last event."""

    def __init__(self, reason: str, error: ProxyError) -> None:
        super().__init__(error.message)
        self.reason = reason
        self.error = error


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
    response = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            **headers,
        },
    )
    request_id = headers.get("X-Request-Id", "")
    pump = _Pump(opened, transform, response, outcome, keepalive, keepalive_comments, request_id)
    try:
        await response.prepare(request)
        try:
            await pump.run()
        except _StreamEnded as ended:
            outcome.error = ended.reason
            await _write(response, _failure_bytes(transform, ended.error))
        await response.write_eof()
    except ConnectionResetError:
        outcome.client_gone = True
    finally:
        pump.silence.stop()
        opened.reply.close()
    return response, outcome


class _Pump:
    """Moves chunks from the upstream reply through the transform to the client."""

    def __init__(
        self,
        opened: Opened,
        transform: StreamTransform,
        response: web.StreamResponse,
        outcome: StreamOutcome,
        keepalive: float,
        keepalive_comments: bool,
        request_id: str,
    ) -> None:
        self.opened = opened
        self.transform = transform
        self.response = response
        self.outcome = outcome
        self.keepalive_comments = keepalive_comments
        self.idle = opened.candidate.upstream.timeouts.idle
        self.silence = SilenceTimer(min(keepalive, self.idle))
        self.request_id = request_id

    async def run(self) -> None:
        """Returns at the stream's end; raises _StreamEnded for an upstream fault."""
        await self._send(self._transformed(self.transform.feed, self.opened.first_chunk))
        self.silence.start()
        while True:
            chunk = await self._next()
            if chunk is None:
                if self.keepalive_comments:
                    await self._send(KEEPALIVE)
                continue
            if not chunk:
                await self._send(self._transformed(lambda _: self.transform.finish(), b""))
                if self.transform.truncated:
                    self.outcome.error = "truncated"
                return
            self.silence.data_arrived()
            self.outcome.chunks += 1
            await self._send(self._transformed(self.transform.feed, chunk))

    async def _next(self) -> bytes | None:
        """The next chunk, ``b""`` at the end, None for a keep-alive moment."""
        try:
            chunk = await self.silence.read(self.opened.reply)
        except (aiohttp.ClientError, OSError) as exc:
            message = (
                f"upstream failed mid-stream: {exc}"
                if isinstance(exc, UpstreamStreamError)
                else "upstream connection lost mid-stream"
            )
            raise _StreamEnded(
                "upstream_lost", ProxyError(502, message, ErrorKind.API_ERROR)
            ) from None
        if chunk is None and self.silence.silent_for() >= self.idle:
            error = ProxyError(504, "upstream stream went silent", ErrorKind.TIMEOUT)
            raise _StreamEnded("idle_timeout", error)
        return chunk

    def _transformed(self, step: Callable[[bytes], bytes], chunk: bytes) -> bytes:
        """One transform step; any exception in it is the upstream's malformed stream."""
        try:
            return step(chunk)
        except AnswerTooLarge as exc:
            name = self.opened.candidate.upstream.name
            raise _StreamEnded("event_too_large", answer_too_large(name, exc.limit)) from None
        except Exception as exc:
            name = self.opened.candidate.upstream.name
            log_fields(
                log,
                logging.WARNING,
                request_id=self.request_id,
                event="stream_transform_failed",
                provider=name,
                exception=type(exc).__name__,
            )
            message = f"upstream {name} sent a stream event the router could not read"
            raise _StreamEnded(
                "bad_upstream_event", ProxyError(502, message, ErrorKind.API_ERROR)
            ) from None

    async def _send(self, data: bytes) -> None:
        await _write(self.response, data)


def _failure_bytes(transform: StreamTransform, error: ProxyError) -> bytes:
    """The closing error event; nothing when even that cannot be rendered."""
    try:
        return transform.fail(error)
    except Exception as exc:
        log_fields(
            log, logging.ERROR, event="stream_error_event_failed", exception=type(exc).__name__
        )
        return b""


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


async def _write(response: web.StreamResponse, data: bytes) -> None:
    if data:
        await response.write(data)
