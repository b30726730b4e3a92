"""Amp CLI's own backend routes, proxied to the configured Amp server (``amp:``).

Amp asks its backend for the user, plugins, threads and telemetry before any model call
(``POST /api/internal?getUserInfo``, ...). Only the Amp server can answer those, so they
are forwarded to ``amp.upstream-url`` with the user's Amp key, and the answer is streamed
back as it arrives. Model calls (``/api/provider/<name>/...``) never leave the router:
they are served by the client API handlers (router/app.py), and an unknown provider path
is a local 404.
"""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from router.clientauth import presented_key
from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.schema import AmpConfig, Timeouts
from router.context import CONTEXT
from router.errors import ErrorKind, ProxyError
from router.outbound import ProxyUnreachable, client_session

# Path prefixes of Amp's backend (the CLI's API, login pages, thread pages). Provider
# paths (AMP_PREFIX) are left out, so a wrong method or an unknown path there gets the
# router's own 405 or 404 in the caller's format.
AMP_ROUTES = ("/api/{tail:(?!provider/).*}", "/auth/{tail:.*}", "/threads/{tail:.*}")
# Seconds a session replaced by a reload stays open for the requests still using it.
_RETIRE_AFTER = 300.0
# Headers that describe one hop, not the message; never forwarded either way.
HOP_HEADERS = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "host", "content-length",
    }
)  # fmt: skip
# Where clients put keys; the router's own client key must never reach Amp.
KEY_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key"})


class AmpSession:
    """The one pooled HTTP session to the Amp server, opened on first use and opened anew
    when a reload changes the outbound proxy that applies to it."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._proxy = DIRECT_CONNECTION
        self._retired: set[asyncio.Task[None]] = set()

    def get(self, proxy: ProxySetting) -> aiohttp.ClientSession:
        if self._session is not None and not self._session.closed:
            if proxy == self._proxy:
                return self._session
            self._retire(self._session)
        self._session = client_session(
            proxy, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
        )
        self._proxy = proxy
        return self._session

    def _retire(self, session: aiohttp.ClientSession) -> None:
        """Closes the old session once the requests still on it had their time."""

        async def close_later() -> None:
            await asyncio.sleep(_RETIRE_AFTER)
            await session.close()

        task = asyncio.get_running_loop().create_task(close_later())
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    async def close(self) -> None:
        for task in list(self._retired):
            task.cancel()
        if self._session is not None:
            await self._session.close()


SESSION = web.AppKey("amp_session", AmpSession)


def add_amp_routes(app: web.Application) -> None:
    """Register the proxy after the client routes, so /api/provider/... stays local."""
    app[SESSION] = session = AmpSession()
    for route in AMP_ROUTES:
        app.router.add_route("*", route, proxy)

    async def close_session(_: web.Application) -> None:
        await session.close()

    app.on_cleanup.append(close_session)


def upstream_headers(request: web.Request, config: AmpConfig, keys_required: bool) -> CIMultiDict:
    """The client's headers for the Amp server, authenticated with the user's Amp key."""
    headers = CIMultiDict(
        (name, value)
        for name, value in request.headers.items()
        if name.lower() not in HOP_HEADERS and name.lower() not in KEY_HEADERS
    )
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    elif keys_required:
        raise ProxyError(
            403,
            "Amp backend routes need your Amp API key: set amp.api-key in config.yaml "
            "(e.g. api-key: ${AMP_API_KEY}); the key clients send here is the router's",
            ErrorKind.PERMISSION,
        )
    elif presented_key(request):
        # No router keys: the key the Amp CLI sent is the user's own Amp key.
        headers["Authorization"] = f"Bearer {presented_key(request)}"
    return headers


async def proxy(request: web.Request) -> web.StreamResponse:
    ctx = request[CONTEXT]
    config = ctx.runtime.config
    headers = upstream_headers(request, config.amp, ctx.runtime.client_keys.required)
    ctx.log["upstream"] = "amp"
    url = config.amp.upstream_url.rstrip("/") + request.rel_url.path_qs
    session = request.app[SESSION].get(config.proxy_for(config.amp.proxy_url))
    try:
        upstream = await session.request(
            request.method,
            url,
            headers=headers,
            # Streamed, not read first: thread uploads may be large.
            data=request.content if request.can_read_body else None,
            allow_redirects=False,
            timeout=client_timeout(config.timeouts),
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = str(exc) if isinstance(exc, ProxyUnreachable) else type(exc).__name__
        raise ProxyError(
            502,
            f"the Amp server {config.amp.upstream_url} did not answer ({reason}); "
            "check amp.upstream-url and the network",
            ErrorKind.API_ERROR,
        ) from None
    async with upstream:
        return await relay(request, upstream)


def client_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(connect=timeouts.connect, sock_read=timeouts.idle)


async def relay(request: web.Request, upstream: aiohttp.ClientResponse) -> web.StreamResponse:
    """Stream the Amp server's answer to the client, chunk by chunk as it arrives."""
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    for name, value in upstream.headers.items():
        if name.lower() not in HOP_HEADERS:
            response.headers.add(name, value)
    response.headers["X-Request-Id"] = request[CONTEXT].request_id
    await response.prepare(request)
    try:
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
    except (aiohttp.ClientError, TimeoutError):
        # Mid-answer the status is sent: cut the connection so the client sees a broken
        # transfer, never a short answer that looks whole.
        request[CONTEXT].log["error"] = "amp_upstream_broke"
        if request.transport is not None:
            request.transport.abort()
        return response
    await response.write_eof()
    return response
