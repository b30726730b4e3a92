"""cto.new accounts: /v1/auth/ctonew (management routes; the guard middleware runs first).

- ``POST /v1/auth/ctonew``: store a Clerk login, JSON
  ``{"cookie": "<__client value or whole Cookie header>", "session_id"?: "sess_...",
  "organization_id"?: "org_...", "label"?: "..."}``. The ``__client`` value must be a JWT
  carrying a ``rotating_token`` claim. Storing the same login again replaces it.
- ``GET /v1/auth/ctonew/status``: accounts with label, session id, state and last use;
  never the cookie.
- ``DELETE /v1/auth/ctonew``: forget one account (``?id=``) or all of them.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from aiohttp import web

from router.api.body import max_json_depth
from router.body_reader import loads_bounded, read_text
from router.config.wire import ctonew as constants
from router.credentials.store import credential_id
from router.errors import ErrorKind, ProxyError, bad_request
from router.state import STATE
from router.subscriptions.ctonew.clerk import client_cookie, client_id
from router.subscriptions.ctonew.upstream import FIX, CtoNewUpstream

_LABEL_LIMIT = 100


def add_ctonew_routes(app: web.Application) -> None:
    app.router.add_post("/v1/auth/ctonew", store_login)
    app.router.add_get("/v1/auth/ctonew/status", status)
    app.router.add_delete("/v1/auth/ctonew", forget)


def _upstream(request: web.Request) -> CtoNewUpstream | None:
    upstream = request.app[STATE].runtime.subscriptions.by_provider.get(constants.PROVIDER)
    return upstream if isinstance(upstream, CtoNewUpstream) else None


def _optional_id(body: dict[str, Any], key: str, prefix: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(prefix) or len(value) > 200:
        raise bad_request(f"{key}: expected a string starting with {prefix!r}", key)
    return value


async def store_login(request: web.Request) -> web.Response:
    try:
        text = await read_text(request, request.app[STATE].runtime.body_limit)
        body = loads_bounded(text, max_json_depth(request))
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise bad_request(
            'expected a JSON object: {"cookie": "<__client value or Cookie header>", '
            '"session_id"?: "sess_...", "organization_id"?: "org_...", "label"?: "..."}'
        )
    pasted = body.get("cookie")
    if not isinstance(pasted, str) or not pasted.strip():
        raise bad_request(
            "cookie: expected the __client cookie value or the Cookie header", "cookie"
        )
    try:
        cookie = client_cookie(pasted)
    except ValueError as exc:
        raise bad_request(f"cookie: {exc}", "cookie") from None
    label = body.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > _LABEL_LIMIT):
        raise bad_request(f"label: expected a string of at most {_LABEL_LIMIT} characters", "label")
    data: dict[str, Any] = {"client_cookie": cookie, "created_at": time.time()}
    for key, prefix in (("session_id", "sess_"), ("organization_id", "org_")):
        value = _optional_id(body, key, prefix)
        if value is not None:
            data[key] = value
    if label:
        data["label"] = label
    name = label or client_id(cookie) or hashlib.sha256(cookie.encode()).hexdigest()[:12]
    state = request.app[STATE]
    stored = state.credentials.save(
        constants.PROVIDER, credential_id(constants.PROVIDER, name), data
    )
    state.cooldowns.reset(constants.UPSTREAM_NAME, stored.id)
    return web.json_response(
        {"status": "stored", "provider": constants.PROVIDER, "id": stored.id, "label": stored.label}
    )


async def status(request: web.Request) -> web.Response:
    state = request.app[STATE]
    upstream = _upstream(request)
    if upstream is not None:
        accounts = upstream.accounts()
    else:
        accounts = [
            {"id": c.id, "label": c.label, "state": "disabled"}
            for c in state.credentials.list(constants.PROVIDER)
        ]
    answer: dict[str, Any] = {
        "provider": constants.PROVIDER,
        "enabled": upstream is not None,
        "logged_in": any(a["state"] == "ok" for a in accounts),
        "accounts": accounts,
    }
    if not accounts:
        answer["fix"] = FIX
    return web.json_response(answer)


async def forget(request: web.Request) -> web.Response:
    state = request.app[STATE]
    wanted = request.query.get("id")
    removed = state.credentials.delete(constants.PROVIDER, wanted)
    if wanted and not removed:
        raise ProxyError(404, f"no cto.new account with id {wanted!r}", ErrorKind.NOT_FOUND)
    return web.json_response({"provider": constants.PROVIDER, "removed": removed})
