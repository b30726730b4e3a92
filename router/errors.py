"""Errors the router answers with; rendered in the caller's own API format.

The kinds are the formats layer's ``ErrorKind``, so every codec can render them.
"""

from __future__ import annotations

import math

from router.formats.errors import ErrorKind

__all__ = ["ErrorKind", "ProxyError", "bad_request"]


class ProxyError(Exception):
    """An error with a status and a client-safe message (never a secret, never a traceback)."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: ErrorKind,
        *,
        retry_after: float | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.retry_after = retry_after
        self.param = param

    def headers(self) -> dict[str, str]:
        if self.retry_after is None or not math.isfinite(self.retry_after):
            return {}
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}


def bad_request(message: str, param: str | None = None) -> ProxyError:
    return ProxyError(400, message, ErrorKind.INVALID_REQUEST, param=param)
