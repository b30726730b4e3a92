"""Local control port: /health, /status, /login, /session; Bearer relay key when one is set."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from providers.aistudio.service import AIStudioService
from providers.aistudio.session_manager import InvalidSessionImport
from router.clientauth import bearer_token, key_matches
from router.logs import log_exception_fields, log_fields

log = logging.getLogger("aistudio.control")

SERVICE_KEY = web.AppKey("service", AIStudioService)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "status": status}}, status=status)


def _auth_middleware(key: str) -> Middleware:
    @web.middleware
    async def require_key(request: web.Request, handler: Handler) -> web.StreamResponse:
        if key and not key_matches(bearer_token(request), key):
            return _error(401, "missing or wrong Bearer key (the aistudio relay key)")
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            log_exception_fields(log, event="control_error", path=request.path)
            return _error(500, f"internal error: {type(exc).__name__}")

    return require_key


async def health(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVICE_KEY].health())


async def status(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVICE_KEY].status())


async def login(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    raw = await request.text()
    if not raw.strip():
        if not service.can_log_in_interactively():
            return _error(
                400,
                "no session given and no display for an interactive sign-in: POST a "
                "storage-state JSON or a cookie export as the body",
            )
        service.start_interactive_login()
        return web.json_response({"state": "waiting_for_sign_in"}, status=202)
    try:
        body = json.loads(raw)
    except ValueError:
        return _error(400, "body is not JSON")
    account = request.query.get("account")
    if isinstance(body, dict) and isinstance(body.get("account"), str):
        account = body["account"]
    try:
        result = await service.import_session(body, account)
    except InvalidSessionImport as exc:
        return _error(400, str(exc))
    return web.json_response(result, status=200 if result["ok"] else 422)


async def forget(request: web.Request) -> web.Response:
    await request.app[SERVICE_KEY].forget_session()
    return web.json_response({"state": "absent"})


def build_control_app(service: AIStudioService) -> web.Application:
    app = web.Application(middlewares=[_auth_middleware(service.config.relay_key)])
    app[SERVICE_KEY] = service
    app.router.add_get("/health", health)
    app.router.add_get("/status", status)
    app.router.add_post("/login", login)
    app.router.add_delete("/session", forget)
    return app


async def start_control_server(service: AIStudioService, port: int) -> tuple[web.AppRunner, int]:
    """Serve on 127.0.0.1 only; returns the runner and the bound port (port 0 picks one)."""
    runner = web.AppRunner(build_control_app(service), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    log_fields(log, logging.INFO, event="control_listening", port=bound)
    return runner, bound
