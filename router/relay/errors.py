"""Errors raised to users of the relay hub; messages never carry secrets."""

from __future__ import annotations


class RelayError(Exception):
    """A relayed request failed: error frame from the peer, or the session dropped.

    ``status`` is the HTTP status the router should answer with.
    """

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RelayUnavailable(RelayError):
    """No connected, usable relay session can take the request."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=503)
