"""What one worker answers the others on its private socket (never on the TCP port).

POST /internal/relay                  run a request through this worker's relay hub and
                                      stream the answer (router/relay/workers.py reads it)
GET  /internal/metrics                this worker's Prometheus metrics, for /metrics

Every call carries the run's worker token; the socket sits in a directory only the
router's user can open.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from router.relay import RelayError, RelayUnavailable
from router.relay.workers import ERROR_HEADER, HEADERS_HEADER, STATUS_HEADER, STREAMING_HEADER
from router.shared import TOKEN_HEADER, WorkerRole
from router.state import STATE, RouterState


def create_internal_app(state: RouterState, role: WorkerRole) -> web.Application:
    @web.middleware
    async def worker_token(request: web.Request, handler: Any) -> web.StreamResponse:
        presented = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(presented.encode(), role.token.encode()):
            return web.Response(status=403, text="worker token required")
        response: web.StreamResponse = await handler(request)
        return response

    app = web.Application(middlewares=[worker_token])
    app[STATE] = state
    app.router.add_post("/internal/relay", relay)
    app.router.add_get("/internal/metrics", metrics)
    return app


def _failed(kind: str, message: str, status: int) -> web.Response:
    return web.Response(status=status, text=message, headers={ERROR_HEADER: kind})


async def relay(request: web.Request) -> web.StreamResponse:
    payload = await request.json()
    hub = request.app[STATE].relay
    try:
        answer = await hub.request(
            payload["method"],
            payload["url"],
            payload["headers"],
            payload["body"],
            session=payload.get("session"),
        )
    except RelayUnavailable as exc:
        return _failed("unavailable", exc.message, 503)
    except RelayError as exc:
        return _failed("error", exc.message, exc.status)
    response = web.StreamResponse(
        headers={
            STATUS_HEADER: str(answer.status),
            HEADERS_HEADER: json.dumps(answer.headers),
            STREAMING_HEADER: "1" if answer.streaming else "0",
        }
    )
    try:
        await response.prepare(request)
        async for chunk in answer:
            await response.write(chunk)
        await response.write_eof()
    except RelayError:
        # Cut the answer: the asking worker reads a broken body and ends its stream with
        # an error event in its client's format.
        if request.transport is not None:
            request.transport.close()
    finally:
        await answer.aclose()
    return response


async def metrics(request: web.Request) -> web.Response:
    usage = request.app[STATE].usage
    usage.drain()
    body = generate_latest(usage.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
