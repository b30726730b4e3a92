"""Reading a client's body as the router's handlers do: a JSON object within the size
limit and no deeper than ``server.max-json-depth`` (router/body_reader.py does the
reading; every failure is a ProxyError the middleware answers in the caller's format).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from router.body_reader import loads_bounded, read_limited
from router.context import context
from router.errors import bad_request


def max_json_depth(request: web.Request) -> int:
    return context(request).runtime.config.server.max_json_depth


async def read_json_object(request: web.Request, limit: int) -> dict[str, Any]:
    body, _ = await read_json(request, limit)
    return body


async def read_json(request: web.Request, limit: int) -> tuple[dict[str, Any], bytes]:
    """The body as a JSON object, and its bytes as received (passthrough reuses them)."""
    raw = await read_limited(request, limit)
    if not raw.strip():
        raise bad_request("request body is empty; expected a JSON object")
    try:
        body = loads_bounded(raw, max_json_depth(request))
    except ValueError as exc:
        raise bad_request(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    return body, raw
