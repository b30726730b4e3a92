"""What every upstream's ``open`` shares: one pooled session, made once on first use, and
the count of replies opened and not yet closed.

An upstream says only where a call goes and how it is authenticated; it takes its session
from ``pool.session()`` and hands each reply the ``on_close`` that ``pool.opened()``
returns, so ``active_requests()`` and ``close()`` are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import aiohttp

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.schema import Timeouts
from router.outbound import make_connector
from router.upstreams.base import Upstream, UpstreamReply
from router.upstreams.http1_pool import Http1Pool

_CONNECTION_LIMIT = 512


def pooled_session(
    timeouts: Timeouts, *, cookies: bool = True, proxy: ProxySetting = DIRECT_CONNECTION
) -> aiohttp.ClientSession:
    """A keep-alive connection pool for one upstream; ``cookies=False`` keeps none;
    ``proxy``: the outbound proxy its connections go through."""
    connector = make_connector(proxy, limit=_CONNECTION_LIMIT, ttl_dns_cache=300)
    timeout = aiohttp.ClientTimeout(
        total=None, connect=timeouts.connect, sock_connect=timeouts.connect
    )
    jar = None if cookies else aiohttp.DummyCookieJar()
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=jar, skip_auto_headers=("User-Agent",)
    )


class UpstreamPool:
    """One upstream's pooled session and its open replies."""

    def __init__(
        self,
        timeouts: Callable[[], Timeouts],
        *,
        cookies: bool = True,
        proxy: ProxySetting = DIRECT_CONNECTION,
        lean: bool = False,
    ) -> None:
        """``timeouts``: read when the session is made (the upstream's own, merged);
        ``lean``: calls reached directly go through router/upstreams/http1.py (API
        upstreams, which need no cookies); proxied ones always take aiohttp's client."""
        self._timeouts = timeouts
        self._cookies = cookies
        self.proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._lean: Http1Pool | None = None
        self._use_lean = lean and proxy == DIRECT_CONNECTION
        self.active = 0

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = pooled_session(
                self._timeouts(), cookies=self._cookies, proxy=self.proxy
            )
        return self._session

    def opened(self) -> Callable[[], None]:
        """Count one reply open; the callable returned counts it closed, once."""
        self.active += 1
        counted = True

        def closed() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.active -= 1

        return closed

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> UpstreamReply:
        if self._use_lean:
            if self._lean is None:
                self._lean = Http1Pool(self._timeouts().connect, _CONNECTION_LIMIT)
            reply = await self._lean.post(url, body, headers)
            reply.on_close = self.opened()
            return reply
        response = await self.session().post(url, data=body, headers=headers)
        return HttpReply(response, self.opened())

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._lean is not None:
            await self._lean.close()
            self._lean = None


class HttpReply(UpstreamReply):
    """Wraps an aiohttp response; counts itself out of its pool exactly once."""

    __slots__ = ("_on_close", "_response", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse, on_close: Callable[[], None]) -> None:
        self._response = response
        self._on_close: Callable[[], None] | None = on_close
        self.status = response.status
        self.headers = response.headers

    async def next_chunk(self) -> bytes:
        return await self._response.content.readany()

    def close(self) -> None:
        if self._on_close is None:
            return
        on_close, self._on_close = self._on_close, None
        on_close()
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class PooledUpstream(Upstream):
    """An upstream whose replies are counted by ``pool``; subclasses make the pool."""

    pool: UpstreamPool

    def active_requests(self) -> int:
        return self.pool.active

    async def close(self) -> None:
        await self.pool.close()
