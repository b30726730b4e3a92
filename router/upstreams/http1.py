"""A lean HTTP/1.1 client for calls to API upstreams reached directly (no outbound proxy).

Why not aiohttp's client here: measured with ``make bench``, aiohttp's ClientSession spent
~95 µs of CPU per keep-alive POST on this machine against ~32 µs for a protocol that hands
the response to httptools' C parser, and the router's upstream call is on the path of every
request. What it does, and no more: one keep-alive connection per request in flight (at
most ``limit`` per origin, then requests wait), responses parsed as they arrive (length,
chunked or until-close bodies), the body handed over in the pieces it came in, reading
paused while ``HIGH_WATER`` bytes wait unread, connections reused only after a complete
answer that allows it. No cookies, no redirects, no compression asked for (no
``Accept-Encoding``; a gzip or deflate body sent anyway is inflated). Proxied upstreams
and the subscriptions keep aiohttp's client (router/upstreams/pool.py). This module is one
connection and its reply; ``http1_pool.py`` keeps the connections.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol, cast

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from router.upstreams.base import UpstreamReply

# Unread body bytes at which reading from the upstream pauses (resumed once they are read).
HIGH_WATER = 256 * 1024
# Content-Encoding values whose bodies are inflated before anyone reads them.
_INFLATED = frozenset({"gzip", "x-gzip", "deflate"})


class UpstreamConnectionError(ConnectionError):
    """The upstream connection failed or closed before the answer was whole."""


def request_head(target: str, host: str, headers: Mapping[str, str], length: int) -> bytes:
    """The request line and headers; a ValueError for a name or value that would split
    the head (a line break in it) or is not Latin-1."""
    lines = [f"POST {target} HTTP/1.1\r\nHost: {host}\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    lines.append(f"Content-Length: {length}\r\n\r\n")
    head = "".join(lines)
    lines_expected = len(headers) + 4  # request line, Host, headers, Content-Length, blank
    if head.count("\n") != lines_expected or head.count("\r") != lines_expected:
        raise ValueError("a request header name or value holds a line break")
    try:
        return head.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError("a request header name or value is not Latin-1") from None


class Http1Reply(UpstreamReply):
    """One response: status and headers once the head arrived, then the body in pieces."""

    __slots__ = ("_connection", "headers", "on_close", "status")

    def __init__(self, connection: Http1Connection) -> None:
        self._connection: Http1Connection | None = connection
        # Called once when the reply is closed (the pool's count of open replies).
        self.on_close: Callable[[], None] | None = None
        self.status = connection.status
        self.headers: CIMultiDictProxy[str] = connection.headers

    async def next_chunk(self) -> bytes:
        connection = self._connection
        if connection is None:
            return b""
        return await connection.read()

    def arrived_whole(self) -> bytes | None:
        connection = self._connection
        return None if connection is None else connection.arrived_whole()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()
        connection.finish()


class ConnectionOwner(Protocol):
    """What a connection tells the pool it belongs to (router/upstreams/http1_pool.py)."""

    def done(self, connection: Http1Connection, reusable: bool) -> None: ...

    def forget(self, connection: Http1Connection) -> None: ...


class Http1Connection(asyncio.Protocol):
    """One keep-alive connection and the response it is reading (one at a time)."""

    def __init__(self, pool: ConnectionOwner, key: tuple[str, int, bool]) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
        self.idle_since = 0.0
        self._raw_headers: list[tuple[str, str]] = []
        self._head: asyncio.Future[None] | None = None
        self._body: deque[bytes] = deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._complete = False
        self._keep_alive = False
        self._inflate: zlib._Decompress | None = None
        self._error: BaseException | None = None
        self._until_close = False
        self._paused = False
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not registered as asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)

    def start(self, head: bytes, body: bytes) -> asyncio.Future[None]:
        """Send one request; the future completes when the response head arrived."""
        if self.lost or self.transport is None:
            raise UpstreamConnectionError("upstream closed the connection")
        self.status = 0
        self._raw_headers = []
        self._body.clear()
        self._buffered = 0
        self._complete = False
        self._keep_alive = False
        self._until_close = False
        self._head = asyncio.get_running_loop().create_future()
        self.transport.write(head + body if len(body) < 16384 else head)
        if len(body) >= 16384:
            self.transport.write(body)
        return self._head

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamConnectionError(f"malformed HTTP response: {exc}"))
            if self.transport is not None:
                self.transport.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue): its real one follows
            self._raw_headers = []
            return
        self.status = status
        self.headers = CIMultiDictProxy(CIMultiDict(self._raw_headers))
        self._until_close = (
            "Content-Length" not in self.headers and "Transfer-Encoding" not in self.headers
        )
        coding = self.headers.get("Content-Encoding", "").strip().lower()
        # Never asked for, but some servers compress anyway; gzip or zlib, told apart
        # by the stream's own header (wbits 32 + 15).
        self._inflate = zlib.decompressobj(wbits=47) if coding in _INFLATED else None
        head = self._head
        if head is not None and not head.done():
            head.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self._inflate is not None:
            body = self._inflate.decompress(body)
            if not body:
                return
        self._body.append(body)
        self._buffered += len(body)
        if self._buffered >= HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.status:
            if self._inflate is not None and (rest := self._inflate.flush()):
                self._body.append(rest)
            self._complete = True
            self._keep_alive = self.parser.should_keep_alive()  # only valid in the callback
            self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.pool.forget(self)
        if self._complete:
            return
        if self.status and self._until_close and exc is None:
            self._complete = True
            self._wake()
            return
        self._fail(
            UpstreamConnectionError("upstream closed the connection before the answer ended")
        )

    def _fail(self, error: BaseException) -> None:
        self._error = error
        head = self._head
        if head is not None and not head.done():
            head.set_exception(error)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def arrived_whole(self) -> bytes | None:
        return self._take() if self._complete else None

    async def read(self) -> bytes:
        """The body bytes received since the last read; ``b""`` once it is whole."""
        while True:
            if self._body:
                return self._take()
            if self._complete:
                return b""
            if self._error is not None:
                raise self._error
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _take(self) -> bytes:
        """Every body byte received and not yet read; reading resumes if it was paused."""
        body = self._body
        data = body.popleft() if len(body) == 1 else b"".join(body)
        body.clear()
        self._buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    def finish(self) -> None:
        """The caller is done: keep the connection if its answer was read to the end and the
        upstream allows another request on it, else close it."""
        reusable = (
            self._complete
            and not self._body
            and not self._until_close
            and not self.lost
            and self._keep_alive
        )
        self.pool.done(self, reusable)
