"""Error responses in the caller's own API format (the format's codec renders them)."""

from __future__ import annotations

from aiohttp import web

from router.errors import ProxyError
from router.formats import Format, get_codec
from router.jsonio import dumps


def error_body(client_format: Format, error: ProxyError) -> dict[str, object]:
    return get_codec(client_format).encode_error(error.status, error.message, error.kind)


def stream_error_bytes(client_format: Format, error: ProxyError) -> bytes:
    return get_codec(client_format).encode_stream_error(error.status, error.message, error.kind)


def error_response(client_format: Format, error: ProxyError) -> web.Response:
    return web.Response(
        status=error.status,
        body=dumps(error_body(client_format, error)),
        content_type="application/json",
        headers=error.headers(),
    )
