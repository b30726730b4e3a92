"""Error types of the WebAI service and the OpenAI error shape they are sent in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from router.formats.errors import ErrorKind
from router.formats.openai_chat import openai_error_body as codec_error_body

REASON_MAX_CHARS = 300
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8


class WebAIConfigError(Exception):
    """The webai configuration cannot be served (bad provider name, empty key, ...)."""


@dataclass(frozen=True)
class ProviderAttempt:
    """One provider tried for a request and why it did not answer."""

    provider: str
    reason: str


class GenerationError(Exception):
    """Base of the failures a request can end with after reaching the providers."""

    status: int = 502
    error_type: str = "upstream_error"
    code: str = "upstream_failed"

    def __init__(self, message: str, attempts: Sequence[ProviderAttempt] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = tuple(attempts)


class AllProvidersFailed(GenerationError):
    """Every configured provider raised or answered with nothing."""

    def __init__(self, attempts: Sequence[ProviderAttempt]) -> None:
        super().__init__(f"all providers failed: {describe_attempts(attempts)}", attempts)


class GenerationTimeout(GenerationError):
    """The per-request deadline passed before the providers answered."""

    status = 504
    error_type = "timeout_error"
    code = "upstream_timeout"

    def __init__(self, timeout: float, attempts: Sequence[ProviderAttempt]) -> None:
        super().__init__(f"no answer within {timeout:g}s: {describe_attempts(attempts)}", attempts)


class StreamInterrupted(GenerationError):
    """A provider failed after its stream had already started."""

    def __init__(self, attempt: ProviderAttempt, *, timed_out: bool) -> None:
        super().__init__(f"stream interrupted: {attempt.provider}: {attempt.reason}", [attempt])
        if timed_out:
            self.status = GenerationTimeout.status
            self.error_type = GenerationTimeout.error_type
            self.code = GenerationTimeout.code


def describe_attempts(attempts: Iterable[ProviderAttempt]) -> str:
    return "; ".join(f"{attempt.provider}: {attempt.reason}" for attempt in attempts)


def openai_error_body(message: str, error_type: str, code: str | None = None) -> dict[str, Any]:
    """The router's OpenAI error object (the OpenAI codec's shape), carrying the sidecar's
    own, more specific ``type`` and ``code``."""
    body: dict[str, Any] = codec_error_body(message, ErrorKind.API_ERROR)
    body["error"].update(type=error_type, code=code)
    return body


class Redactor:
    """Replaces known secret values (shared key, cookie values) in text sent out or logged."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        fresh = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        self._secrets = sorted(set(self._secrets) | fresh, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def exception_reason(exc: BaseException, redact: Redactor) -> str:
    """A one-line, bounded, secret-free description of a provider exception."""
    detail = " ".join(str(exc).split())
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    reason = redact(reason)
    if len(reason) > REASON_MAX_CHARS:
        reason = reason[: REASON_MAX_CHARS - 3] + "..."
    return reason
