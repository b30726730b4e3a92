"""Reading a client's JSON body within the configured size limit."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from router.errors import ErrorKind, ProxyError, bad_request


async def read_limited(request: web.Request, limit: int) -> bytes:
    too_large = ProxyError(
        413,
        f"request body is larger than the configured limit of {limit} bytes (body-limit-mb)",
        ErrorKind.REQUEST_TOO_LARGE,
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    parts: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise too_large
        parts.append(chunk)
    return b"".join(parts)


async def read_json_object(request: web.Request, limit: int) -> dict[str, Any]:
    body, _ = await read_json(request, limit)
    return body


async def read_json(request: web.Request, limit: int) -> tuple[dict[str, Any], bytes]:
    """The body as a JSON object, and its bytes as received (passthrough reuses them)."""
    raw = await read_limited(request, limit)
    if not raw.strip():
        raise bad_request("request body is empty; expected a JSON object")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    return body, raw
