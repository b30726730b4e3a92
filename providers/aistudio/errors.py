"""Failures of the AI Studio service, each with the HTTP status the router should use."""

from __future__ import annotations


class AIStudioError(Exception):
    status = 502

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SessionExpired(AIStudioError):
    status = 401


class QuotaCooldown(AIStudioError):
    status = 429


class BrowserUnavailable(AIStudioError):
    status = 503


class BrowserCrashed(AIStudioError):
    status = 502


class PoolBusy(AIStudioError):
    """The page queue is full, or a queued request waited too long."""

    status = 503


SESSION_EXPIRED_HINT = (
    "AI Studio session expired or missing: log in again "
    "(POST /login on the aistudio control port with a storage-state or cookie export)"
)
