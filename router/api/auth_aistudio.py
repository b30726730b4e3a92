"""AI Studio session management, forwarded to the service's control port.

- ``POST /v1/auth/aistudio/login``: the body (a Playwright storage-state JSON or a browser
  cookie export) goes to the service's ``POST /login``; an empty body starts an interactive
  sign-in in a visible browser (202) when the service has a display. A successful import
  ends the sessions' quota cooldowns (the router's cooldowns of provider aistudio).
- ``GET /v1/auth/aistudio/status``: the service's ``GET /status``.
- ``DELETE /v1/auth/aistudio``: the service's ``DELETE /session`` (forget the login).

These are management routes: the management guard (router/management/guard.py) has
already checked the client's address and the management secret.

The relay peers' socket, ``GET /v1/ws``, is router/api/relay_socket.py.
"""

from __future__ import annotations

from aiohttp import web

from router.api.body import max_json_depth
from router.body_reader import loads_bounded, read_limited
from router.config.schema import AISTUDIO_PROVIDER
from router.errors import ErrorKind, ProxyError
from router.state import STATE
from router.upstreams.aistudio import AIStudioControl, ControlUnreachable


def _control(request: web.Request) -> AIStudioControl:
    return request.app[STATE].runtime.aistudio.control


async def _forward(
    control: AIStudioControl, method: str, path: str, body: bytes | None = None
) -> web.Response:
    try:
        status, answer = await control.call(method, path, body)
    except ControlUnreachable as exc:
        raise ProxyError(503, exc.message, ErrorKind.OVERLOADED) from None
    if status == 401:
        raise ProxyError(
            502,
            "the AI Studio service refused the router's key: aistudio.relay-key must be the "
            "same for the router and the service",
            ErrorKind.API_ERROR,
        )
    return web.json_response(answer, status=status)


def add_aistudio_routes(app: web.Application) -> None:
    app.router.add_post("/v1/auth/aistudio/login", login)
    app.router.add_get("/v1/auth/aistudio/status", status)
    app.router.add_delete("/v1/auth/aistudio", forget)


async def login(request: web.Request) -> web.Response:
    control = _control(request)
    body = await read_limited(request, request.app[STATE].runtime.body_limit)
    if body.strip():
        try:
            loads_bounded(body, max_json_depth(request))
        except ValueError:
            raise ProxyError(
                400,
                "body is not JSON: send a storage-state JSON or a cookie export",
                ErrorKind.INVALID_REQUEST,
            ) from None
    path = "/login"
    if "account" in request.query:
        path += "?" + request.query_string
    response = await _forward(control, "POST", path, body)
    if response.status == 200:
        state = request.app[STATE]
        state.cooldowns.reset(AISTUDIO_PROVIDER)
    return response


async def status(request: web.Request) -> web.Response:
    return await _forward(_control(request), "GET", "/status")


async def forget(request: web.Request) -> web.Response:
    return await _forward(_control(request), "DELETE", "/session")
