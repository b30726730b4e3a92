"""The leanest upstream a load test can have: ``python -m bench.lean_upstream``.

An asyncio protocol that answers every keep-alive POST with the bench upstream's fixed
completion (its Anthropic message on /v1/messages), parsing no more than the header
block and Content-Length. For benchmarks where the upstream shares the machine's cores
with what is measured and should take as little of them as possible (workers-throughput:
two router workers need both cores). Prints the bound port on stdout. Streams are not
served: use bench.upstream for those.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from bench.upstream import COMPLETION, MESSAGE


def _answer(body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


ANSWERS = {b"/v1/chat/completions": _answer(COMPLETION), b"/v1/messages": _answer(MESSAGE)}
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class LeanUpstream(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
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
            self.buffer = self.buffer[total:]
            assert self.transport is not None
            self.transport.write(ANSWERS.get(path, NOT_FOUND))


async def serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(LeanUpstream, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(serve())
    sys.exit(0)
