"""Errors the router answers with; rendered in the caller's own API format."""

from __future__ import annotations

import math
from enum import StrEnum


class ErrorKind(StrEnum):
    """What went wrong, independent of any API format."""

    INVALID_REQUEST = "invalid_request"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    REQUEST_TOO_LARGE = "request_too_large"
    RATE_LIMIT = "rate_limit"
    OVERLOADED = "overloaded"
    UPSTREAM = "upstream"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


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
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}


def bad_request(message: str, param: str | None = None) -> ProxyError:
    return ProxyError(400, message, ErrorKind.INVALID_REQUEST, param=param)
