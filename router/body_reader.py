"""Reading an HTTP request's body: within a size limit, its Content-Encoding undone, as
UTF-8 text or as JSON no deeper than a given depth.

Every way a body can be wrong is a ProxyError the caller's middleware answers in the
caller's format: too large (413), cut short or badly framed (400), too slow (408, set by
router/connections.py), not UTF-8, not JSON, nested too deeply or holding a string that
is not valid Unicode (an unpaired surrogate escape) (400). Below the request path, so the
sidecars read bodies with it too; router/api/body.py adds what depends on the router's
config (``server.max-json-depth``).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from router.content_encoding import decode_content
from router.errors import ErrorKind, ProxyError, bad_request
from router.jsonio import loads

_DEPTH_KEY = "server.max-json-depth"


async def read_limited(
    request: web.Request, limit: int, *, limit_name: str = "body-limit-mb"
) -> bytes:
    """The body's bytes; ``limit_name`` is what the 413 message names as the limit."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit, limit_name)
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit, limit_name)
            parts.append(chunk)
    except web.RequestPayloadError as exc:
        raise bad_request(f"request body could not be read: {_payload_reason(exc)}") from None
    raw = parts[0] if len(parts) == 1 else b"".join(parts)
    return decode_content(raw, request.headers.get("Content-Encoding"), limit)


def _too_large(limit: int, limit_name: str) -> ProxyError:
    return ProxyError(
        413,
        f"request body is larger than the configured limit of {limit} bytes ({limit_name})",
        ErrorKind.REQUEST_TOO_LARGE,
    )


def _payload_reason(exc: web.RequestPayloadError) -> str:
    cause = exc.__cause__
    text = str(getattr(cause, "message", "") or cause or exc).strip()
    return text or "the body is cut short or badly framed"


async def read_text(request: web.Request, limit: int) -> str:
    """The body as text; it must be UTF-8 (whatever charset the header names)."""
    raw = await read_limited(request, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(
            f"request body is not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        ) from None


def loads_bounded(data: bytes | str, max_depth: int) -> Any:
    """``json.loads`` that refuses nesting deeper than ``max_depth`` with a 400.

    Invalid JSON raises ValueError as ``json.loads`` does, so callers keep their own
    message for it. The tree is walked for its depth only when the text has more
    brackets than ``max_depth`` (fewer cannot nest that deep).
    """
    try:
        value = loads(data)
    except RecursionError:
        raise _too_deep(max_depth) from None
    if _OPENERS[type(data)](data) > max_depth and nesting_exceeds(value, max_depth):
        raise _too_deep(max_depth)
    if _MAYBE_SURROGATE[type(data)].search(data) and _has_lone_surrogate(value):
        raise bad_request(
            "request body has a string with an unpaired UTF-16 surrogate (such as \\ud800 "
            "without its pair); JSON strings must be valid Unicode"
        )
    return value


def _too_deep(max_depth: int) -> ProxyError:
    return bad_request(
        f"request body nests arrays or objects deeper than {max_depth} levels "
        f"(the limit is {_DEPTH_KEY})"
    )


_OPENERS: dict[type, Any] = {
    bytes: lambda data: data.count(b"{") + data.count(b"["),
    str: lambda data: data.count("{") + data.count("["),
}
# A surrogate escape (\ud800-\udfff) or its raw bytes, which json.loads lets through: only
# then are the strings searched for one left unpaired.
_MAYBE_SURROGATE: dict[type, re.Pattern[Any]] = {
    bytes: re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]"),
    str: re.compile(r"\\u[dD][89a-fA-F]"),
}
_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(value: Any) -> bool:
    """Decoded strings keep a surrogate only when it had no pair (pairs become one char)."""
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return True
        elif isinstance(node, dict):
            pending.extend(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return False


def nesting_exceeds(value: Any, max_depth: int) -> bool:
    """Whether arrays and objects in ``value`` nest deeper than ``max_depth`` (iterative)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if not isinstance(node, dict | list):
            continue
        if depth > max_depth:
            return True
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
