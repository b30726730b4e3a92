"""A lean HTTP/1.1 client for calls to API upstreams reached directly (no outbound proxy).

Why not aiohttp's client here: measured with ``make bench``, aiohttp's ClientSession spent
~85 µs of CPU per keep-alive POST on this machine against ~27 µs for a protocol that hands
the response to httptools' C parser, and the router's upstream call is on the path of every
request. What it does, and no more: one keep-alive connection per request in flight (at
most ``limit`` per origin, then requests wait), responses parsed as they arrive (length,
chunked or until-close bodies), the body handed over in the pieces it came in, reading
paused while ``HIGH_WATER`` bytes wait unread, connections reused only after a complete
answer that allows it. No cookies, no redirects, no compression (no ``Accept-Encoding``
is sent, so an upstream answers in identity). Proxied upstreams and the subscriptions keep
aiohttp's client (router/upstreams/pool.py).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from router.upstreams.base import UpstreamReply

# Unread body bytes at which reading from the upstream pauses (and resumes below half).
HIGH_WATER = 256 * 1024
# Seconds an idle keep-alive connection is reused for; older ones are closed, since
# servers drop idle connections after a while (aiohttp's default is the same).
IDLE_EXPIRY = 15.0
_IDLE_KEPT = 64


class UpstreamConnectionError(ConnectionError):
    """The upstream connection failed or closed before the answer was whole."""


class Origin:
    """Where a URL's requests go: scheme, host, port, and the Host header for them."""

    __slots__ = ("host", "host_header", "port", "tls")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        default_port = self.port == (443 if self.tls else 80)
        name = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = name if default_port else f"{name}:{self.port}"


def _target(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


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

    def __init__(self, connection: _Connection) -> None:
        self._connection: _Connection | None = connection
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


class _Connection(asyncio.Protocol):
    """One keep-alive connection and the response it is reading (one at a time)."""

    def __init__(self, pool: Http1Pool, key: tuple[str, int, bool]) -> None:
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
        self._error: BaseException | None = None
        self._until_close = False
        self._paused = False
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

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
        head = self._head
        if head is not None and not head.done():
            head.set_result(None)

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        self._buffered += len(body)
        if self._buffered >= HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.status:
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
        if not self._complete:
            return None
        data = b"".join(self._body)
        self._body.clear()
        self._buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def read(self) -> bytes:
        """The body bytes received since the last read; ``b""`` once it is whole."""
        while True:
            if self._body:
                data = self._body.popleft() if len(self._body) == 1 else b"".join(self._body)
                self._body.clear()
                self._buffered = 0
                if self._paused and self.transport is not None:
                    self._paused = False
                    self.transport.resume_reading()
                return data
            if self._complete:
                return b""
            if self._error is not None:
                raise self._error
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

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


class Http1Pool:
    """Keep-alive connections to any number of origins, for one upstream."""

    def __init__(self, connect_timeout: float, limit: int = 512) -> None:
        self.connect_timeout = connect_timeout
        self.limit = limit
        self._idle: dict[tuple[str, int, bool], deque[_Connection]] = {}
        self._origins: dict[str, tuple[Origin, str]] = {}
        self._open = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._ssl: ssl.SSLContext | None = None
        self._closed = False

    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    def _origin(self, url: str) -> tuple[Origin, str]:
        found = self._origins.get(url)
        if found is None:
            found = (Origin(url), _target(url))
            if len(self._origins) < 1024:
                self._origins[url] = found
        return found

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Http1Reply:
        origin, target = self._origin(url)
        head = request_head(target, origin.host_header, headers, len(body))
        connection = self._idle_connection(origin) or await self._acquire(origin)
        try:
            await connection.start(head, body)
        except BaseException:
            self.done(connection, False)
            raise
        return Http1Reply(connection)

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get((origin.host, origin.port, origin.tls))
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.lost and now - connection.idle_since < IDLE_EXPIRY:
                return connection
            self._close(connection)
        return None

    async def _acquire(self, origin: Origin) -> _Connection:
        """A kept connection to ``origin``, else a new one once fewer than ``limit`` are
        open (closing one kept for another origin to make room), else wait for either."""
        while True:
            if self._closed:
                raise UpstreamConnectionError("the upstream's connection pool is closed")
            if self._open < self.limit:
                return await self._connect(origin)
            if self._close_one_idle():
                continue
            await self._wait_turn()
            connection = self._idle_connection(origin)
            if connection is not None:
                return connection

    async def _wait_turn(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()  # the turn this waiter was given goes to the next
            raise

    def _wake_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _close_one_idle(self) -> bool:
        for idle in self._idle.values():
            if idle:
                self._close(idle.popleft())
                return True
        return False

    async def _connect(self, origin: Origin) -> _Connection:
        self._open += 1
        loop = asyncio.get_running_loop()
        key = (origin.host, origin.port, origin.tls)
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self, key),
                    origin.host,
                    origin.port,
                    ssl=self.ssl_context() if origin.tls else None,
                    server_hostname=origin.host if origin.tls else None,
                )
        except BaseException:
            self._released()
            raise
        return connection

    def done(self, connection: _Connection, reusable: bool) -> None:
        if not reusable or self._closed:
            self._close(connection)
            return
        idle = self._idle.setdefault(connection.key, deque())
        if len(idle) >= _IDLE_KEPT:
            self._close(idle.popleft())
        connection.idle_since = time.monotonic()
        idle.append(connection)
        self._wake_one()

    def forget(self, connection: _Connection) -> None:
        """A connection the upstream closed leaves the idle list (it may be on it)."""
        idle = self._idle.get(connection.key)
        if idle is not None and connection in idle:
            idle.remove(connection)
            self._released()

    def _close(self, connection: _Connection) -> None:
        if connection.transport is not None and not connection.lost:
            connection.lost = True
            connection.transport.abort()
        self._released()

    def _released(self) -> None:
        self._open -= 1
        self._wake_one()

    async def close(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                self._close(idle.pop())
