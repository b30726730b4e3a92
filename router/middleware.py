"""Every request passes here: request id, origin policy, client key check, errors, one log line.

The origin policy (router/security/gate.py) screens the Host and any browser Origin first.
Management routes (/v1/auth/*, /v1/management/*) are gated by the management guard
instead of client keys.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from router.api.amp_actors import ACTOR_SOCKET_PATH
from router.api.client_format import client_format
from router.api.usage import SELF_GUARDED_PATHS
from router.clientauth import presented_key
from router.context import CONTEXT, RequestContext
from router.error_replies import error_response
from router.errors import ErrorKind, ProxyError
from router.management.guard import NO_SECRET_NOTICE, is_management_path
from router.request_log import CLIENT_CLOSED, log_request
from router.security.gate import screen
from router.state import STATE

log = logging.getLogger("router.request")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Paths any client may call without a key: they reveal no secrets.
PUBLIC_PATHS = frozenset({"/v1/health", "/health"})
# Paths whose handler checks its own key: relay peers present the relay key; the Amp
# server checks the wsToken the Amp CLI's actor socket carries (router/api/amp_actors.py).
SELF_AUTHENTICATED_PATHS = frozenset({"/v1/ws", ACTOR_SOCKET_PATH})
_KEYLESS_PATHS = PUBLIC_PATHS | SELF_AUTHENTICATED_PATHS | SELF_GUARDED_PATHS


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    runtime = request.app[STATE].runtime
    request[CONTEXT] = ctx = RequestContext(runtime)
    request_id, fields = ctx.request_id, ctx.log
    runtime.acquire()
    observer = request.app[STATE].usage
    observer.started(ctx)
    status = 500
    try:
        response = await _answer(request, handler)
        status = response.status
        if not response.prepared:
            response.headers["X-Request-Id"] = request_id
        return response
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        fields["error"] = "client_gone"
        raise
    finally:
        runtime.release()
        if fields.get("client_gone"):
            status = CLIENT_CLOSED
        observer.finished(ctx, status)
        role = request.app[STATE].role
        if role is not None:
            fields["worker"] = role.index
        log_request(log, request, request_id, status, ctx.started, fields)


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    fmt = client_format(request.path)
    try:
        preflight = screen(request, request[CONTEXT].runtime.origin_policy)
        if preflight is not None:
            return preflight
        if not is_management_path(request.path):
            _check_client_key(request)
            return await handler(request)
        guard = request.app[STATE].management
        await guard.check(request)
        response = await handler(request)
        if guard.secret is None and not response.prepared:
            response.headers["X-Management-Notice"] = NO_SECRET_NOTICE
        return response
    except ProxyError as error:
        request[CONTEXT].log["error"] = error.kind.value
        return error_response(fmt, error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kind = ErrorKind.NOT_FOUND if exc.status == 404 else ErrorKind.INVALID_REQUEST
        message = f"{request.method} {request.path}: {exc.reason.lower()}"
        return error_response(fmt, ProxyError(exc.status, message, kind))
    except Exception:
        ctx = request[CONTEXT]
        log.exception("unhandled error request_id=%s", ctx.request_id)
        ctx.log["error"] = "internal"
        message = f"internal error (request id {ctx.request_id}); see the router log"
        return error_response(fmt, ProxyError(500, message, ErrorKind.API_ERROR))


def _check_client_key(request: web.Request) -> None:
    """Config ``api-keys`` first, then keys issued by cliproxy (with their limits)."""
    if request.path in _KEYLESS_PATHS:
        return
    ctx = request[CONTEXT]
    keys = ctx.runtime.client_keys
    issued = request.app[STATE].usage
    if not keys.required and not issued.keys.any_active:
        return
    presented = presented_key(request)
    if not presented:
        message = (
            "missing API key: send it as Authorization: Bearer, x-api-key, x-goog-api-key or ?key="
        )
        raise ProxyError(401, message, ErrorKind.AUTHENTICATION)
    name = keys.identify(presented) or issued.admit_issued_key(presented, ctx)
    if name is None:
        # 403, not 401: Claude Code retries a 401 for minutes without a word, and no retry
        # can fix a wrong or revoked key.
        message = (
            "invalid API key: use one of the api-keys in the router's config.yaml or a key "
            "issued with 'cliproxy keys create' (a revoked key stays invalid)"
        )
        raise ProxyError(403, message, ErrorKind.PERMISSION)
    ctx.log["key"] = name
