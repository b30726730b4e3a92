"""Forwards an upstream stream to the client chunk by chunk, as it arrives.

A silent upstream gets ``: keep-alive`` comments every ``keepalive`` seconds; one silent
for longer than its idle timeout, or one that dies mid-stream, ends the client stream with
an error event in the client's format. The upstream reply is closed on every exit path,
including the client going away (aiohttp cancels the handler), so nothing outlives the
request.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import web

from router.errors import ErrorKind, ProxyError
from router.routing.failover import Opened

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
    try:
        await response.prepare(request)
        await _write(response, transform.feed(opened.first_chunk), outcome)
        last_data = time.monotonic()
        while True:
            silent = time.monotonic() - last_data
            if silent >= idle:
                error = ProxyError(504, "upstream stream went silent", ErrorKind.TIMEOUT)
                await _write(response, transform.fail(error), outcome)
                outcome.error = "idle_timeout"
                break
            try:
                async with asyncio.timeout(min(keepalive, idle - silent)):
                    chunk = await reply.next_chunk()
            except TimeoutError:
                if keepalive_comments and time.monotonic() - last_data < idle:
                    await _write(response, KEEPALIVE, outcome)
                continue
            except (aiohttp.ClientError, OSError):
                error = ProxyError(502, "upstream connection lost mid-stream", ErrorKind.API_ERROR)
                await _write(response, transform.fail(error), outcome)
                outcome.error = "upstream_lost"
                break
            if not chunk:
                await _write(response, transform.finish(), outcome)
                break
            last_data = time.monotonic()
            outcome.chunks += 1
            await _write(response, transform.feed(chunk), outcome)
        await response.write_eof()
    except ConnectionResetError:
        outcome.client_gone = True
    finally:
        reply.close()
    return response, outcome


async def _write(response: web.StreamResponse, data: bytes, outcome: StreamOutcome) -> None:
    if data:
        outcome.bytes_out += len(data)
        await response.write(data)
