"""The lean HTTP/1.1 client API upstreams use (router/upstreams/http1.py), against raw
loopback servers that answer exactly the bytes each test needs."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from router.upstreams.http1 import HIGH_WATER, UpstreamConnectionError
from router.upstreams.http1_pool import Http1Pool

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
pytestmark = pytest.mark.both_loops

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class RawServer:
    """Counts connections; ``serve`` answers each one."""

    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        request = head + await reader.readexactly(length)
        self.requests.append(request)
        return request

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1/x?y=1"


async def start(
    serve: Callable[[RawServer, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    **kwargs: object,
) -> RawServer:
    raw = RawServer(lambda r, w: serve(raw, r, w))
    raw.server = await asyncio.start_server(raw.handle, "127.0.0.1", 0, **kwargs)  # type: ignore[arg-type]
    return raw


async def keep_answering(
    raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    while True:
        await raw.read_request(reader)
        writer.write(OK)
        await writer.drain()


async def body_of(pool: Http1Pool, url: str) -> tuple[int, bytes]:
    reply = await pool.post(url, b'{"a":1}', {"Content-Type": "application/json"})
    try:
        parts = []
        while chunk := await reply.next_chunk():
            parts.append(chunk)
        return reply.status, b"".join(parts)
    finally:
        reply.close()


@pytest.fixture
async def pool() -> AsyncIterator[Http1Pool]:
    made = Http1Pool(5.0)
    yield made
    await made.close()


async def test_sequential_requests_share_one_keep_alive_connection(pool: Http1Pool) -> None:
    raw = await start(keep_answering)
    for _ in range(3):
        assert await body_of(pool, raw.url) == (200, b"{}")
    assert raw.connections == 1
    head = raw.requests[0].split(b"\r\n\r\n")[0].decode()
    assert head.startswith("POST /v1/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert "Content-Length: 7" in head and "Content-Type: application/json" in head
    assert raw.requests[0].endswith(b'{"a":1}')


async def test_a_chunked_body_arrives_piece_by_piece_as_sent(pool: Http1Pool) -> None:
    release = asyncio.Event()

    async def chunked(
        raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await raw.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    raw = await start(chunked)
    reply = await pool.post(raw.url, b"{}", {})
    assert reply.headers["transfer-encoding"] == "chunked"
    assert await reply.next_chunk() == b"first"  # before the server sent the rest
    release.set()
    assert await reply.next_chunk() == b"second"
    assert await reply.next_chunk() == b""
    reply.close()


async def test_a_body_that_ends_with_the_connection_is_whole_and_not_reused(
    pool: Http1Pool,
) -> None:
    async def until_close(
        raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await raw.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        await writer.drain()

    raw = await start(until_close)
    assert await body_of(pool, raw.url) == (200, b"all of it")
    assert await body_of(pool, raw.url) == (200, b"all of it")
    assert raw.connections == 2


async def test_a_connection_lost_mid_body_is_an_error_not_a_short_answer(pool: Http1Pool) -> None:
    async def cut(
        raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await raw.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()

    raw = await start(cut)
    reply = await pool.post(raw.url, b"{}", {})
    assert await reply.next_chunk() == b"only this"
    with pytest.raises(UpstreamConnectionError):
        await reply.next_chunk()
    reply.close()


async def test_connection_close_in_the_answer_is_honoured(pool: Http1Pool) -> None:
    async def closing(
        raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await raw.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        await asyncio.sleep(1)

    raw = await start(closing)
    await body_of(pool, raw.url)
    await body_of(pool, raw.url)
    assert raw.connections == 2


async def test_reading_pauses_while_much_is_unread_and_resumes_after(pool: Http1Pool) -> None:
    size = HIGH_WATER * 8

    async def big(
        raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await raw.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size)
        await writer.drain()

    raw = await start(big)
    reply = await pool.post(raw.url, b"{}", {})
    await asyncio.sleep(0.3)  # the client reads nothing meanwhile
    connection = reply._connection
    assert connection is not None and connection._paused
    assert connection._buffered < size
    received = 0
    while chunk := await reply.next_chunk():
        received += len(chunk)
    assert received == size
    reply.close()


async def test_a_header_that_would_split_the_request_is_refused_before_sending(
    pool: Http1Pool,
) -> None:
    raw = await start(keep_answering)
    with pytest.raises(ValueError, match="line break"):
        await pool.post(raw.url, b"{}", {"X-Evil": "a\r\nX-Injected: 1"})
    assert raw.connections == 0


async def test_a_reply_closed_before_its_end_drops_its_connection(pool: Http1Pool) -> None:
    gone = asyncio.Event()

    async def slow(
        raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await raw.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await reader.read()  # returns when the client closed the connection
        gone.set()

    raw = await start(slow)
    reply = await pool.post(raw.url, b"{}", {})
    assert await reply.next_chunk() == b"abc"
    reply.close()
    await asyncio.wait_for(gone.wait(), 5)


async def test_an_idle_connection_the_server_closed_is_not_reused(pool: Http1Pool) -> None:
    async def one_then_close(
        raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await raw.read_request(reader)
        writer.write(OK)
        await writer.drain()

    raw = await start(one_then_close)
    assert await body_of(pool, raw.url) == (200, b"{}")
    await asyncio.sleep(0.2)  # the server closed the kept connection meanwhile
    assert await body_of(pool, raw.url) == (200, b"{}")
    assert raw.connections == 2


async def test_past_the_limit_a_request_waits_for_a_connection() -> None:
    limited = Http1Pool(5.0, limit=1)
    raw = await start(keep_answering)
    first = await limited.post(raw.url, b"{}", {})
    second = asyncio.create_task(body_of(limited, raw.url))
    await asyncio.sleep(0.2)
    assert not second.done()
    while await first.next_chunk():
        pass
    first.close()
    assert await asyncio.wait_for(second, 5) == (200, b"{}")
    assert raw.connections == 1
    await limited.close()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` and its key (Debian's openssl command)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_https_upstreams_are_reached_over_tls_with_the_host_name_checked(
    pool: Http1Pool, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    raw = await start(keep_answering, ssl=server_tls)
    url = raw.url.replace("http://127.0.0.1", "https://localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        await body_of(pool, url)  # not trusted by the default context
    pool.ssl_context().load_verify_locations(cert)
    assert await body_of(pool, url) == (200, b"{}")


async def test_at_the_limit_a_kept_connection_to_another_origin_makes_room() -> None:
    limited = Http1Pool(5.0, limit=1)
    first, second = await start(keep_answering), await start(keep_answering)
    assert await body_of(limited, first.url) == (200, b"{}")
    assert await asyncio.wait_for(body_of(limited, second.url), 5) == (200, b"{}")
    assert await asyncio.wait_for(body_of(limited, first.url), 5) == (200, b"{}")
    assert (first.connections, second.connections) == (2, 1)
    await limited.close()


async def test_a_waiter_cancelled_after_its_turn_came_passes_the_turn_on() -> None:
    limited = Http1Pool(5.0, limit=1)
    raw = await start(keep_answering)
    holder = await limited.post(raw.url, b"{}", {})
    doomed = asyncio.create_task(body_of(limited, raw.url))
    patient = asyncio.create_task(body_of(limited, raw.url))
    await asyncio.sleep(0.1)
    while await holder.next_chunk():
        pass
    holder.close()  # the turn goes to ``doomed``, which is cancelled before it runs
    doomed.cancel()
    assert await asyncio.wait_for(patient, 5) == (200, b"{}")
    await limited.close()


async def test_a_body_already_whole_is_handed_over_at_once(pool: Http1Pool) -> None:
    release = asyncio.Event()

    async def in_two(
        raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await raw.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc")
        await writer.drain()
        await release.wait()
        writer.write(b"def")
        await writer.drain()
        await keep_answering(raw, reader, writer)

    raw = await start(in_two)
    reply = await pool.post(raw.url, b"{}", {})
    await asyncio.sleep(0.1)
    assert reply.arrived_whole() is None  # half of it so far
    release.set()
    await asyncio.sleep(0.1)
    assert reply.arrived_whole() == b"abcdef"
    assert await reply.next_chunk() == b""
    reply.close()
    assert await body_of(pool, raw.url) == (200, b"{}")
    assert raw.connections == 1


async def test_a_compressed_body_sent_unasked_is_inflated(pool: Http1Pool) -> None:
    text = b'{"answer": "' + b"many words " * 2000 + b'"}'
    packed = gzip.compress(text)

    async def gzipped(
        raw: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await raw.read_request(reader)
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
        writer.write(head % len(packed) + packed[:100])
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(packed[100:])
        await writer.drain()
        await keep_answering(raw, reader, writer)

    raw = await start(gzipped)
    assert await body_of(pool, raw.url) == (200, text)
    assert b"accept-encoding" not in raw.requests[0].lower()
    assert await body_of(pool, raw.url) == (200, b"{}")
    assert raw.connections == 1
