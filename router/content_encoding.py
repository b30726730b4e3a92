"""Request bodies sent with ``Content-Encoding``: gzip and deflate are undone here, within
the body limit; any other coding is refused with 415.

aiohttp's own request decompression is off (``auto_decompress=False`` in router/server.py):
it raised from deep inside the parser on a body that was not what its header said, and it
bounded the inflated size only by its own setting. Here a bad body is a 400 that names the
coding, and an inflated body larger than ``body-limit-mb`` is a 413 like any other.
"""

from __future__ import annotations

import zlib

from router.errors import ErrorKind, ProxyError, bad_request

# Codings a client may send (each applied in the order listed in the header).
SUPPORTED = ("gzip", "deflate")
_IDENTITY = ("", "identity")
# More codings stacked on one body than this is not a real client.
_MAX_CODINGS = 2


def decode_content(raw: bytes, header: str | None, limit: int) -> bytes:
    """``raw`` with the codings of a ``Content-Encoding`` header undone, last first."""
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c not in _IDENTITY]
    if not codings:
        return raw
    unsupported = [c for c in codings if c not in SUPPORTED and c != "x-gzip"]
    if unsupported or len(codings) > _MAX_CODINGS:
        raise ProxyError(
            415,
            f"Content-Encoding {header!r} is not supported: send the body uncompressed, "
            "or compressed once with gzip or deflate",
            ErrorKind.INVALID_REQUEST,
        )
    for coding in reversed(codings):
        raw = _inflate(raw, coding, limit)
    return raw


def _inflate(data: bytes, coding: str, limit: int) -> bytes:
    """One coding undone; at most ``limit`` bytes come out."""
    # HTTP's deflate is zlib-wrapped, but some clients send a raw deflate stream.
    attempts = (16 + zlib.MAX_WBITS,) if coding != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    reason = ""
    for wbits in attempts:
        try:
            return _inflate_with(data, wbits, limit)
        except zlib.error as exc:
            reason = str(exc)
    raise bad_request(f"request body is not valid {coding} data (Content-Encoding): {reason}")


def _inflate_with(data: bytes, wbits: int, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while data:
        inflater = zlib.decompressobj(wbits)
        part = inflater.decompress(data, limit + 1 - size)
        size += len(part)
        if size > limit:
            raise ProxyError(
                413,
                f"request body is larger than the configured limit of {limit} bytes once "
                "decompressed (body-limit-mb)",
                ErrorKind.REQUEST_TOO_LARGE,
            )
        if not inflater.eof:
            raise zlib.error("the compressed data ends early")
        parts.append(part)
        # A gzip body may hold several members one after the other.
        data = inflater.unused_data if wbits > zlib.MAX_WBITS else b""
        if inflater.unused_data and wbits <= zlib.MAX_WBITS:
            raise zlib.error("data follows the end of the compressed stream")
    return b"".join(parts)
