"""Errors the router answers with; rendered in the caller's own API format.

The kinds are the formats layer's ``ErrorKind``, so every codec can render them.
"""

from __future__ import annotations

import math

from router.formats.errors import ErrorKind

__all__ = ["AttemptFailed", "ErrorKind", "OAuthError", "ProxyError", "bad_request"]


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


class AttemptFailed(Exception):
    """One candidate failed before anything reached the client.

    Raised by upstreams, caught by failover (which tries the next candidate); it lives here,
    at the bottom, so upstreams never import routing.
    """

    def __init__(
        self,
        status: int,
        kind: ErrorKind,
        message: str,
        *,
        retry_after: float | None = None,
        auth: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.auth = auth

    def as_proxy_error(self) -> ProxyError:
        return ProxyError(self.status, self.message, self.kind, retry_after=self.retry_after)


class OAuthError(Exception):
    """The token endpoint refused or could not be reached.

    Raised by router.oauth, handled by the credential keeper (router.credentials).

    ``rejected`` means the grant itself was refused (``invalid_grant`` and the like): the
    user has to log in again. Otherwise trying later may help.
    """

    def __init__(self, message: str, *, rejected: bool) -> None:
        super().__init__(message)
        self.message = message
        self.rejected = rejected
