"""The keep-alive connections of router/upstreams/http1.py, per upstream: reused while
fresh, at most ``limit`` open (then requests wait their turn), closed with the upstream."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Mapping
from urllib.parse import urlsplit

from router.upstreams.http1 import (
    Http1Connection,
    Http1Reply,
    UpstreamConnectionError,
    request_head,
)

# Seconds an idle keep-alive connection is reused for; older ones are closed, since
# servers drop idle connections after a while (aiohttp's default is the same).
IDLE_EXPIRY = 15.0
_IDLE_KEPT = 64


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


class Http1Pool:
    """Keep-alive connections to any number of origins, for one upstream."""

    def __init__(self, connect_timeout: float, limit: int = 512) -> None:
        self.connect_timeout = connect_timeout
        self.limit = limit
        self._idle: dict[tuple[str, int, bool], deque[Http1Connection]] = {}
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

    def _idle_connection(self, origin: Origin) -> Http1Connection | None:
        idle = self._idle.get((origin.host, origin.port, origin.tls))
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.lost and now - connection.idle_since < IDLE_EXPIRY:
                return connection
            self._close(connection)
        return None

    async def _acquire(self, origin: Origin) -> Http1Connection:
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

    async def _connect(self, origin: Origin) -> Http1Connection:
        self._open += 1
        loop = asyncio.get_running_loop()
        key = (origin.host, origin.port, origin.tls)
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: Http1Connection(self, key),
                    origin.host,
                    origin.port,
                    ssl=self.ssl_context() if origin.tls else None,
                    server_hostname=origin.host if origin.tls else None,
                )
        except BaseException:
            self._released()
            raise
        return connection

    def done(self, connection: Http1Connection, reusable: bool) -> None:
        if not reusable or self._closed:
            self._close(connection)
            return
        idle = self._idle.setdefault(connection.key, deque())
        if len(idle) >= _IDLE_KEPT:
            self._close(idle.popleft())
        connection.idle_since = time.monotonic()
        idle.append(connection)
        self._wake_one()

    def forget(self, connection: Http1Connection) -> None:
        """A connection the upstream closed leaves the idle list (it may be on it)."""
        idle = self._idle.get(connection.key)
        if idle is not None and connection in idle:
            idle.remove(connection)
            self._released()

    def _close(self, connection: Http1Connection) -> None:
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
