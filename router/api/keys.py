"""Client keys issued by cliproxy (management routes; see router/usage/keys.py).

- ``POST /v1/management/keys``: ``{"name", "expires_at"?, "models"?, "limits"?}`` ->
  201 with the key's secret, shown this once. ``expires_at`` is epoch seconds or ISO
  8601; ``models`` are exact names or globs; ``limits`` any of requests_per_minute,
  tokens_per_day, tokens_per_month, cost_per_day, cost_per_month (US dollars).
- ``GET /v1/management/keys``: every issued key (never a secret or hash) with what it
  used today and this month, and the names of the config's ``api-keys``.
- ``DELETE /v1/management/keys/{name}``: revoke. The key's next request gets 401;
  streams it already started run to their end.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from router.errors import ErrorKind, ProxyError, bad_request
from router.state import STATE
from router.usage.keys import KeyRequestError
from router.usage.query import parse_time


def add_key_routes(app: web.Application) -> None:
    app.router.add_post("/v1/management/keys", create_key)
    app.router.add_get("/v1/management/keys", list_keys)
    app.router.add_delete("/v1/management/keys/{name}", revoke_key)


async def create_key(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        raise bad_request("expected a JSON object") from None
    if not isinstance(body, dict):
        raise bad_request("expected a JSON object")
    expires_at = _expiry(body.get("expires_at"))
    models = body.get("models") or []
    if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
        raise bad_request("models: expected a list of model names or globs", "models")
    taken = frozenset(k.name for k in state.runtime.config.api_keys if k.name)
    try:
        key, secret = state.usage.keys.create(
            body.get("name"),
            expires_at=expires_at,
            models=tuple(models),
            limits=body.get("limits"),
            taken=taken,
        )
    except KeyRequestError as exc:
        raise bad_request(exc.message, exc.field) from None
    return web.json_response(
        {**key.public(), "key": secret, "notice": "store this key now: it is not shown again"},
        status=201,
    )


def _expiry(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return parse_time(value, "expires_at")
    raise bad_request("expires_at: expected epoch seconds or an ISO 8601 time", "expires_at")


async def list_keys(request: web.Request) -> web.Response:
    usage = request.app[STATE].usage
    keys = [{**k.public(), "used": usage.limits.spent(k.name)} for k in usage.keys.all()]
    config_keys = [
        k.name or f"key{i + 1}" for i, k in enumerate(request.app[STATE].runtime.config.api_keys)
    ]
    return web.json_response(
        {"keys": keys, "config_keys": config_keys, "problem": usage.keys.problem}
    )


async def revoke_key(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    key = request.app[STATE].usage.keys.revoke(name)
    if key is None:
        raise ProxyError(404, f"no issued key named {name!r}", ErrorKind.NOT_FOUND)
    return web.json_response(key.public())
