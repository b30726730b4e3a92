"""Streaming clients: per-chunk delay measurement and streams abandoned mid-way.

Chunks from ``bench.upstream`` carry ``"sent_ns"`` (CLOCK_MONOTONIC at the upstream's
write); the delay of a chunk is the client's monotonic clock when the read that returned
it completed, minus that stamp.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import aiohttp
import httptools

from bench.processes import BENCH_MODEL

SENT_NS = re.compile(rb'"sent_ns":(\d+)')
STREAM_BODY = json.dumps(
    {
        "model": BENCH_MODEL,
        "messages": [{"role": "user", "content": "Count slowly."}],
        "stream": True,
    }
).encode()
READ_TIMEOUT = 30.0


@dataclass
class StreamDelays:
    """Per-chunk delays (ms) of a set of concurrent streams, and how the streams ended."""

    delays_ms: list[float] = field(default_factory=list)
    chunks_per_stream: list[int] = field(default_factory=list)
    failures: int = 0
    wall_s: float = 0.0


async def measure_streams(url: str, streams: int, spread_s: float = 0.0) -> StreamDelays:
    """Open ``streams`` streams against ``url`` and time every chunk. ``spread_s`` 0 opens
    them together, so their chunks come in bursts of ``streams``; otherwise their starts
    are spaced evenly over ``spread_s`` (one chunk interval spreads them across it)."""
    result = StreamDelays()

    async def one(session: aiohttp.ClientSession, number: int) -> None:
        await asyncio.sleep(spread_s * number / streams)
        chunks = 0
        pending = b""
        try:
            async with session.post(
                url, data=STREAM_BODY, headers={"Content-Type": "application/json"}
            ) as reply:
                if reply.status != 200:
                    result.failures += 1
                    return
                while True:
                    data = await reply.content.readany()
                    received = time.monotonic_ns()
                    if not data:
                        break
                    pending += data
                    complete, _, pending = pending.rpartition(b"\n\n")
                    for match in SENT_NS.finditer(complete):
                        result.delays_ms.append((received - int(match.group(1))) / 1e6)
                        chunks += 1
        except (aiohttp.ClientError, TimeoutError):
            result.failures += 1
        result.chunks_per_stream.append(chunks)

    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=None, sock_read=READ_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(one(session, number) for number in range(streams)))
    result.wall_s = time.monotonic() - started
    return result


class _StampReader(asyncio.Protocol):
    """One stream read straight off the socket: the response is de-chunked by httptools
    and every ``"sent_ns"`` stamp is timed against the clock read as its bytes arrived."""

    def __init__(self, request: bytes, result: StreamDelays) -> None:
        self.request = request
        self.result = result
        self.parser = httptools.HttpResponseParser(self)
        self.pending = b""
        self.received = 0
        self.chunks = 0
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(self.request)

    def data_received(self, data: bytes) -> None:
        self.received = time.monotonic_ns()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._finish(False)

    def on_body(self, body: bytes) -> None:
        complete, _, self.pending = (self.pending + body).rpartition(b"\n\n")
        for match in SENT_NS.finditer(complete):
            self.result.delays_ms.append((self.received - int(match.group(1))) / 1e6)
            self.chunks += 1

    def on_message_complete(self) -> None:
        self._finish(self.parser.get_status_code() == 200)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(False)

    def _finish(self, ok: bool) -> None:
        if not self.done.done():
            self.done.set_result(ok)


async def measure_streams_lean(url: str, streams: int, spread_s: float = 0.0) -> StreamDelays:
    """``measure_streams`` with the least client work per chunk: a bare protocol per
    stream instead of aiohttp, so the client's own delay is not what the p99 measures."""
    result = StreamDelays()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Content-Type: application/json\r\nConnection: close\r\n"
        f"Content-Length: {len(STREAM_BODY)}\r\n\r\n"
    ).encode() + STREAM_BODY
    loop = asyncio.get_running_loop()

    async def one(number: int) -> None:
        await asyncio.sleep(spread_s * number / streams)
        reader = _StampReader(request, result)
        transport, _ = await loop.create_connection(lambda: reader, host, port)
        try:
            ok = await asyncio.wait_for(reader.done, READ_TIMEOUT * 10)
        except TimeoutError:
            ok = False
        finally:
            transport.close()
        if not ok:
            result.failures += 1
        result.chunks_per_stream.append(reader.chunks)

    started = time.monotonic()
    await asyncio.gather(*(one(number) for number in range(streams)))
    result.wall_s = time.monotonic() - started
    return result


@dataclass
class Abandoned:
    """How many abandoned streams got their first chunks before the client left."""

    opened: int = 0
    failed: int = 0


async def abandon_streams(
    port: int, total: int, concurrency: int, read_chunks: int = 2
) -> Abandoned:
    """Open ``total`` streams (``concurrency`` at a time), read ``read_chunks`` SSE events,
    then go away: even-numbered streams close the socket (FIN), odd ones reset it (RST).
    Raw sockets, so the close is exactly what a client that gives up does."""
    outcome = Abandoned()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(STREAM_BODY)}\r\n\r\n"
    ).encode()
    numbers = iter(range(total))

    async def one(number: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(head + STREAM_BODY)
            seen = b""
            while seen.count(b"data:") < read_chunks:
                data = await asyncio.wait_for(reader.read(65536), READ_TIMEOUT)
                if not data:
                    break
                seen += data
            if seen.count(b"data:") >= read_chunks:
                outcome.opened += 1
            else:
                outcome.failed += 1
        finally:
            if number % 2:
                writer.transport.abort()
            else:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    async def worker() -> None:
        for number in numbers:
            try:
                await one(number)
            except (OSError, TimeoutError):
                outcome.failed += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcome
