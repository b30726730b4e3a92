"""The leanest upstream a load test can have: ``python -m bench.lean_upstream``.

An asyncio protocol (on uvloop when installed) that answers every keep-alive POST with
the bench upstream's fixed completion (its Anthropic message on /v1/messages), parsing
no more than the header block and Content-Length. A body asking for ``"stream": true``
on /v1/chat/completions gets ``--chunks`` chunked SSE events ``--interval`` seconds
apart, each stamped with ``"sent_ns"`` as bench.upstream's are, from a timer per stream
and no task. For benchmarks where the upstream shares the machine's cores with what is
measured and should take as little of them, and add as little delay, as it can
(workers-throughput, stream-latency). Prints the bound port on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from typing import cast

from bench.upstream import CHUNK_HEAD, COMPLETION, MESSAGE, STREAM_END


def _answer(body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


ANSWERS = {b"/v1/chat/completions": _answer(COMPLETION), b"/v1/messages": _answer(MESSAGE)}
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
STREAM_PATH = b"/v1/chat/completions"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class LeanUpstream(asyncio.Protocol):
    def __init__(self, chunks: int, interval: float) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.plan = (chunks, interval)
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not registered as asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.timer is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            path = head.split(b" ", 2)[1].split(b"?")[0]
            body = self.buffer[end + 4 : total]
            self.buffer = self.buffer[total:]
            self._answer(path, body)

    def _answer(self, path: bytes, body: bytes) -> None:
        assert self.transport is not None
        if path == STREAM_PATH and b'"stream":true' in body.replace(b" ", b""):
            self.transport.write(STREAM_HEAD)
            loop = asyncio.get_running_loop()
            self._next(loop, loop.time(), 0)
        else:
            self.transport.write(ANSWERS.get(path, NOT_FOUND))

    def _next(self, loop: asyncio.AbstractEventLoop, start: float, index: int) -> None:
        """Write chunk ``index`` and schedule the next at its place on the ``start`` grid,
        so a late timer does not push every later chunk back."""
        assert self.transport is not None
        chunks, interval = self.plan
        if index == chunks:
            self.timer = None
            self.transport.write(_chunk(STREAM_END) + b"0\r\n\r\n")
            if self.buffer:
                self.data_received(b"")
            return
        stamp = CHUNK_HEAD + str(time.monotonic_ns()).encode() + b"}\n\n"
        self.transport.write(_chunk(stamp))
        self.timer = loop.call_at(
            start + (index + 1) * interval, self._next, loop, start, index + 1
        )


async def serve(chunks: int, interval: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: LeanUpstream(chunks, interval), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lean_upstream", description=__doc__)
    parser.add_argument("--chunks", type=int, default=500, help="content chunks per stream")
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between chunks")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.chunks, args.interval))
    else:
        uvloop.run(serve(args.chunks, args.interval))
    return 0


if __name__ == "__main__":
    sys.exit(main())
