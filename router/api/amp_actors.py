"""Amp's thread-actor connections (``/actors/...``), relayed to the configured Amp server.

The current Amp CLI runs its agent on the Amp server: once ``POST /api/thread-actors``
gave it a thread and a ``wsToken``, it opens a WebSocket (Rivet) to
``<AMP_URL>/actors/gateway/threadActor/websocket/?rvt-key=<thread>...`` and the server
drives the turn over it (model calls included), asking the CLI to run tools. The CLI
authenticates there with the ``wsToken`` inside a subprotocol, not with a key, so the
handshake goes on as sent (its path, query and subprotocols) and the frames are relayed
both ways as they come. Plain HTTP under ``/actors`` is proxied like the other Amp routes.
"""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import WSMsgType, web
from multidict import CIMultiDict

from router.api.amp import HOP_HEADERS, KEY_HEADERS, SESSION, proxy
from router.context import CONTEXT
from router.errors import ErrorKind, ProxyError

ACTORS_ROUTE = "/actors/{tail:.*}"
# The CLI's actor socket carries no key; its wsToken is checked by the Amp server.
ACTOR_SOCKET_PATH = "/actors/gateway/threadActor/websocket/"
# Handshake headers the upstream connection makes anew.
HANDSHAKE_HEADERS = frozenset(
    {"sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol",
     "sec-websocket-extensions"}
)  # fmt: skip
# Close codes (RFC 6455): normal, none given, and "the server cannot go on".
NORMAL = 1000
NO_STATUS = 1005
RELAY_FAILED = 1011


def add_actor_routes(app: web.Application) -> None:
    app.router.add_route("*", ACTORS_ROUTE, relay_actors)


async def relay_actors(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Upgrade", "").lower() != "websocket":
        if request.path == ACTOR_SOCKET_PATH:
            # Keyless only for the socket, whose wsToken the Amp server checks: plain HTTP
            # here must not reach the Amp server with the user's Amp key.
            raise ProxyError(
                400,
                f"{ACTOR_SOCKET_PATH} takes only a WebSocket upgrade",
                ErrorKind.INVALID_REQUEST,
            )
        return await proxy(request)
    ctx = request[CONTEXT]
    config = ctx.runtime.config
    ctx.log["upstream"] = "amp"
    protocols = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    headers = CIMultiDict(
        (name, value)
        for name, value in request.headers.items()
        if name.lower() not in HOP_HEADERS | KEY_HEADERS | HANDSHAKE_HEADERS
    )
    url = config.amp.upstream_url.rstrip("/") + request.rel_url.path_qs
    session = request.app[SESSION].get(config.proxy_for(config.amp.proxy_url))
    try:
        async with asyncio.timeout(config.timeouts.connect + config.timeouts.first_byte):
            upstream = await session.ws_connect(
                url,
                protocols=[p for p in protocols if p],
                headers=headers,
                timeout=aiohttp.ClientWSTimeout(ws_close=config.timeouts.connect),
                autoping=False,
            )
    except aiohttp.WSServerHandshakeError as exc:
        raise ProxyError(
            exc.status if 400 <= exc.status < 600 else 502,
            f"the Amp server refused the thread-actor connection ({exc.status} {exc.message})",
            ErrorKind.API_ERROR,
        ) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ProxyError(
            502,
            f"the Amp server {config.amp.upstream_url} did not answer the thread-actor "
            f"connection ({type(exc).__name__}); check amp.upstream-url and the network",
            ErrorKind.API_ERROR,
        ) from None
    async with upstream:
        client = web.WebSocketResponse(
            protocols=[upstream.protocol] if upstream.protocol else (), autoping=False
        )
        await client.prepare(request)
        ctx.log["close_code"] = await relay_frames(client, upstream)
        return client


async def relay_frames(
    client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse
) -> int:
    """Pump frames both ways until either side closes; the other is closed alike with
    the same code, which is returned."""
    tasks = [
        asyncio.create_task(pump(client, upstream)),
        asyncio.create_task(pump(upstream, client)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    code = sendable(upstream.close_code or client.close_code)
    await client.close(code=code)
    await upstream.close(code=code)
    return code


def sendable(code: int | None) -> int:
    """A close code that may go in a close frame: "no code" (1005) is a normal close, a
    connection lost (1006) or anything else reserved is the relay failing."""
    if code in (None, NO_STATUS):
        return NORMAL
    return (
        code
        if 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
        else RELAY_FAILED
    )


async def pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    async for message in source:
        if message.type == WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type == WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        elif message.type == WSMsgType.PING:
            await sink.ping(message.data)
        elif message.type == WSMsgType.PONG:
            await sink.pong(message.data)
