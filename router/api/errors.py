"""Error responses in the caller's own API format."""

from __future__ import annotations

import json

from aiohttp import web

from router.errors import ErrorKind, ProxyError

_OPENAI_TYPES = {
    ErrorKind.INVALID_REQUEST: ("invalid_request_error", None),
    ErrorKind.AUTHENTICATION: ("authentication_error", "invalid_api_key"),
    ErrorKind.PERMISSION: ("permission_error", None),
    ErrorKind.NOT_FOUND: ("invalid_request_error", "model_not_found"),
    ErrorKind.REQUEST_TOO_LARGE: ("invalid_request_error", "request_too_large"),
    ErrorKind.RATE_LIMIT: ("rate_limit_error", "rate_limit_exceeded"),
    ErrorKind.OVERLOADED: ("server_error", "overloaded"),
    ErrorKind.UPSTREAM: ("upstream_error", None),
    ErrorKind.TIMEOUT: ("timeout_error", "upstream_timeout"),
    ErrorKind.UNAVAILABLE: ("service_unavailable", None),
    ErrorKind.INTERNAL: ("server_error", None),
}


def openai_error_body(error: ProxyError) -> dict[str, object]:
    kind, code = _OPENAI_TYPES[error.kind]
    return {"error": {"message": error.message, "type": kind, "param": error.param, "code": code}}


def error_body(client_format: str, error: ProxyError) -> dict[str, object]:
    return openai_error_body(error)


def error_response(client_format: str, error: ProxyError) -> web.Response:
    return web.Response(
        status=error.status,
        body=json.dumps(error_body(client_format, error)).encode(),
        content_type="application/json",
        headers=error.headers(),
    )
