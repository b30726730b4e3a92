"""Upstream faults failover must tell apart: answers over the size limit, the router's
own file descriptors running out, and a 200 stream whose body is not an event stream."""

from __future__ import annotations

import errno

from router.errors import ErrorKind, ProxyError

MIB = 1024 * 1024
ANSWER_LIMIT_KEY = "answer-limit-mb"
_FD_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE})
_SSE_FIELDS = (b"data:", b"event:", b"id:", b"retry:", b":")
_SSE_LOOKAHEAD = 4096
_BOM = b"\xef\xbb\xbf"


class AnswerTooLarge(Exception):
    """An upstream answer grew past ``limit`` bytes while being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def answer_too_large(upstream: str, limit: int) -> ProxyError:
    """The client's error for an answer over the limit: not retryable by another credential
    (the model would answer the same), so it ends the request at once."""
    size = f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit} bytes"
    return ProxyError(
        502,
        f"upstream {upstream} answered with more than {size}, the limit set by "
        f"{ANSWER_LIMIT_KEY} in config.yaml; raise it to accept larger answers",
        ErrorKind.API_ERROR,
    )


def is_fd_exhaustion(exc: BaseException) -> bool:
    """True when ``exc`` (or the OS error it wraps) is EMFILE or ENFILE."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FD_ERRNOS:
            return True
        wrapped = getattr(current, "os_error", None)
        if isinstance(wrapped, OSError) and wrapped.errno in _FD_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
    return False


def out_of_fds() -> ProxyError:
    return ProxyError(
        503,
        "the router is out of file descriptors and cannot open an upstream connection; "
        "retry shortly (raise the router's open-file limit, minfds in supervisord.conf, "
        "if this persists)",
        ErrorKind.OVERLOADED,
        retry_after=1,
    )


def event_stream_problem(first: bytes) -> str | None:
    """Why the first bytes of a 200 event stream are not SSE, or None when they look like it.

    The first non-blank line must be an SSE field or a comment; only the first few KiB are
    looked at, and a first line that has not ended yet is judged by what arrived.
    """
    head = first[:_SSE_LOOKAHEAD]
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    head = head.lstrip(b"\r\n")
    if not head:
        return None
    line = head.split(b"\n", 1)[0]
    if any(line.startswith(name) or name.startswith(line) for name in _SSE_FIELDS):
        return None
    return "answered 200 with a body that is not an event stream"
