"""Tries candidates in order until one answers, cooling down the ones that fail.

Before the first byte reaches the client, a connect error, timeout, 408, 429, 5xx, 401 or
403 moves on to the next candidate (with backoff), up to ``max-retries`` extra attempts.
Other statuses are the client's problem and are answered as they are. A cancelled request
(the client went away) closes what it opened and never counts against a credential.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from router.config.schema import RoutingConfig
from router.errors import AttemptFailed, ErrorKind, ProxyError
from router.jsonio import loads
from router.logs import log_fields, utc_iso
from router.outbound import ProxyUnreachable
from router.routing.cooldown import Cooldowns
from router.routing.selector import Candidate, Pin, Selector
from router.routing.stream_deaths import StreamDeaths
from router.routing.table import Target
from router.upstreams.base import UpstreamCall, UpstreamReply
from router.upstreams.faults import (
    MIB,
    AnswerTooLarge,
    answer_too_large,
    event_stream_problem,
    is_fd_exhaustion,
    out_of_fds,
)
from router.upstreams.retry_after import retry_after_seconds

log = logging.getLogger("router.failover")

_AUTH_STATUSES = frozenset({401, 403})
_ERROR_BODY_LIMIT = 256 * 1024


def is_retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500 or status in _AUTH_STATUSES


@dataclass
class Opened:
    """A successful (or final, non-retryable) upstream answer, ready for the client."""

    candidate: Candidate
    reply: UpstreamReply
    attempts: int
    first_byte_at: float
    first_chunk: bytes = b""
    body: bytes = b""
    payload: Any = None


class AnswerCache(Protocol):
    """A response cache as failover uses it (router/routing/response_cache.py)."""

    def lookup(self, candidate: Candidate, call: UpstreamCall, attempts: int) -> Opened | None:
        """A stored answer to ``call`` from ``candidate``, else None."""

    def record(self, reply: UpstreamReply) -> UpstreamReply:
        """The reply to read instead of ``reply`` (one that keeps what passes)."""


async def read_body(
    reply: UpstreamReply, idle: float, limit: int | None = None, *, cut: bool = True
) -> bytes:
    """The rest of a body, allowing ``idle`` seconds between pieces.

    Past ``limit`` bytes the body is cut there (``cut``, for error bodies) or reading stops
    with AnswerTooLarge; no more than ``limit`` bytes are ever kept.
    """
    whole = reply.arrived_whole()
    if whole is not None:
        if limit is None or len(whole) <= limit:
            return whole
        if not cut:
            raise AnswerTooLarge(limit)
        return whole[:limit]
    parts: list[bytes] = []
    size = 0
    while True:
        async with asyncio.timeout(idle):
            chunk = await reply.next_chunk()
        if not chunk:
            return b"".join(parts)
        if limit is not None and size + len(chunk) > limit:
            if not cut:
                raise AnswerTooLarge(limit)
            parts.append(chunk[: limit - size])
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)


def upstream_message(body: bytes, limit: int = 300) -> str:
    """``": <message>"`` from an error body in any of the API shapes, else ``""``."""
    try:
        error = loads(body).get("error")
    except (ValueError, AttributeError):
        return ""
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str) or not message:
        return ""
    return ": " + (message if len(message) <= limit else message[:limit] + "...")


class Failover:
    """Opens the first candidate that answers for a resolved model."""

    def __init__(
        self,
        routing: RoutingConfig,
        selector: Selector,
        cooldowns: Cooldowns,
        *,
        answer_limit: int = 32 * MIB,
    ) -> None:
        self.routing = routing
        self.selector = selector
        self.cooldowns = cooldowns
        self.answer_limit = answer_limit
        self.stream_deaths = StreamDeaths(routing.mid_stream_failures, routing.mid_stream_window)

    async def open(
        self,
        targets: Sequence[Target],
        build_call: Callable[[Candidate], UpstreamCall],
        *,
        stream: bool,
        request_id: str,
        check_first: Callable[[Candidate, bytes], str | None] | None = None,
        pin: Pin | None = None,
        cache: AnswerCache | None = None,
    ) -> Opened:
        """Raises ProxyError when no candidate could answer.

        ``check_first`` judges a stream's first chunk (None: it will do); a problem it names
        fails the candidate over like a bad status would. ``pin``: a sticky session's
        credential, tried first while it is healthy. ``cache``: asked for each candidate's
        call before it is sent; it records what is sent back instead.
        """
        attempts = 0
        last: AttemptFailed | None = None
        for candidate in self.selector.candidates(targets, pin):
            if attempts > self.routing.max_retries:
                break
            if attempts:
                delay = self.routing.retry_backoff * 2 ** (attempts - 1)
                await asyncio.sleep(min(delay, self.routing.retry_backoff_max))
            attempts += 1
            try:
                call = build_call(candidate)
                if cache is not None:
                    hit = cache.lookup(candidate, call, attempts - 1)
                    if hit is not None:
                        return hit
                opened = await self._attempt(candidate, call, stream, attempts, check_first, cache)
            except AttemptFailed as failure:
                last = failure
                self._cool(candidate, failure, request_id)
                continue
            if 200 <= opened.reply.status < 300:
                self.cooldowns.succeed(
                    candidate.upstream.name, candidate.credential.name, candidate.model
                )
            return opened
        raise self._exhausted(targets, last)

    async def _attempt(
        self,
        candidate: Candidate,
        call: UpstreamCall,
        stream: bool,
        attempts: int,
        check_first: Callable[[Candidate, bytes], str | None] | None,
        cache: AnswerCache | None,
    ) -> Opened:
        timeouts = candidate.upstream.timeouts
        name = candidate.upstream.name
        reply: UpstreamReply | None = None
        try:
            async with asyncio.timeout(timeouts.first_byte):
                reply = await candidate.upstream.open(call)
                if cache is not None:
                    reply = cache.record(reply)
                if reply.status >= 300:
                    body = await read_body(reply, timeouts.idle, _ERROR_BODY_LIMIT)
                    reply.close()
                    return self._judge_error(candidate, reply, body, attempts)
                if stream:
                    _require_event_stream(reply, name)
                    first = await reply.next_chunk()
                    if not first:
                        raise AttemptFailed(
                            502, ErrorKind.API_ERROR, f"upstream {name} ended the stream at once"
                        )
                    problem = event_stream_problem(first) or (
                        check_first(candidate, first) if check_first else None
                    )
                    if problem:
                        raise AttemptFailed(502, ErrorKind.API_ERROR, f"upstream {name} {problem}")
                    return Opened(candidate, reply, attempts, time.monotonic(), first_chunk=first)
            first_byte_at = time.monotonic()
            body = await read_body(reply, timeouts.idle, self.answer_limit, cut=False)
            reply.close()
            try:
                payload = loads(body)
            except ValueError:
                raise AttemptFailed(
                    502,
                    ErrorKind.API_ERROR,
                    f"upstream {name} answered with a body that is not JSON",
                ) from None
            return Opened(candidate, reply, attempts, first_byte_at, body=body, payload=payload)
        except BaseException as exc:
            if reply is not None:
                reply.close()
            if isinstance(exc, TimeoutError):
                raise AttemptFailed(504, ErrorKind.TIMEOUT, f"upstream {name} timed out") from None
            if isinstance(exc, AnswerTooLarge):
                raise answer_too_large(name, exc.limit) from None
            if is_fd_exhaustion(exc):
                log_fields(
                    log,
                    logging.ERROR,
                    request_id=call.request_id,
                    event="fd_exhausted",
                    provider=name,
                    error="out of file descriptors",
                )
                raise out_of_fds() from None
            if isinstance(exc, (aiohttp.ClientError, OSError)):
                raise AttemptFailed(
                    502, ErrorKind.API_ERROR, f"upstream {name} unreachable: {_describe(exc)}"
                ) from None
            raise

    def _judge_error(
        self, candidate: Candidate, reply: UpstreamReply, body: bytes, attempts: int
    ) -> Opened:
        status = reply.status
        if not is_retryable(status):
            return Opened(candidate, reply, attempts, time.monotonic(), body=body)
        name = candidate.upstream.name
        detail = upstream_message(body)
        if status == 429:
            raise AttemptFailed(
                429,
                ErrorKind.RATE_LIMIT,
                f"upstream {name} is rate limited{detail}",
                retry_after=retry_after_seconds(reply.headers.get("Retry-After")),
            )
        if status in _AUTH_STATUSES:
            raise AttemptFailed(
                502,
                ErrorKind.API_ERROR,
                f"upstream {name} rejected credential {candidate.credential.name} ({status})",
                auth=True,
            )
        if status in (408, 504):
            raise AttemptFailed(
                504, ErrorKind.TIMEOUT, f"upstream {name} timed out ({status}){detail}"
            )
        raise AttemptFailed(
            502, ErrorKind.API_ERROR, f"upstream {name} failed with status {status}{detail}"
        )

    def stream_died(self, candidate: Candidate, reason: str, request_id: str) -> None:
        """A stream this candidate started ended in an upstream fault (never a client leaving);
        enough of them within the window cool the credential for the model."""
        upstream = candidate.upstream.name
        if not self.stream_deaths.record(upstream, candidate.credential.name, candidate.model):
            return
        failures = self.routing.mid_stream_failures
        message = f"upstream {upstream} broke {failures} streams mid-way (last: {reason})"
        self._cool(candidate, AttemptFailed(502, ErrorKind.API_ERROR, message), request_id)

    def _cool(self, candidate: Candidate, failure: AttemptFailed, request_id: str) -> None:
        rest = self.cooldowns.fail(
            candidate.upstream.name,
            candidate.credential.name,
            candidate.model,
            failure.message,
            retry_after=failure.retry_after,
            auth=failure.auth,
            quota=failure.kind is ErrorKind.RATE_LIMIT and candidate.upstream.quota_limited,
        )
        log_fields(
            log,
            logging.WARNING,
            request_id=request_id,
            event="attempt_failed",
            provider=candidate.upstream.name,
            credential=candidate.credential.name,
            model=candidate.model,
            reason=failure.message,
            cooldown_s=round(rest, 2),
        )

    def _exhausted(self, targets: Sequence[Target], last: AttemptFailed | None) -> ProxyError:
        soonest = self.selector.soonest_available(targets)
        reasons = sorted(
            {
                f"{t.upstream.name}: {t.upstream.unconfigured_reason}"
                for t in targets
                if t.upstream.unconfigured_reason
            }
        )
        if reasons and soonest is None and (last is None or last.auth):
            # Nothing is configured or logged in (any more): retrying cannot help, so the
            # status is one clients do not retry (SDKs retry 408, 409, 429 and 5xx) and
            # the message says what to do.
            return ProxyError(
                403,
                f"no upstream can serve this model until one is set up: {'; '.join(reasons)}",
                ErrorKind.PERMISSION,
            )
        if last is not None:
            if last.kind is ErrorKind.RATE_LIMIT and soonest is not None:
                last.retry_after = soonest
                last.message += f"; {_back_at(soonest)}"
            return last.as_proxy_error()
        if soonest is not None:
            return ProxyError(
                429,
                f"every upstream for this model is cooling down; {_back_at(soonest)}",
                ErrorKind.RATE_LIMIT,
                retry_after=soonest,
            )
        return ProxyError(
            503, "no upstream can serve this model (no usable credential)", ErrorKind.OVERLOADED
        )


def _back_at(seconds: float) -> str:
    at = utc_iso(time.time() + seconds)
    return f"the first one is back in {max(1, round(seconds))} s (at {at})"


def _require_event_stream(reply: UpstreamReply, name: str) -> None:
    content_type = reply.headers.get("Content-Type", "")
    if "text/event-stream" not in content_type:
        raise AttemptFailed(
            502,
            ErrorKind.API_ERROR,
            f"upstream {name} answered a stream request with {content_type or 'no content type'}",
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ProxyUnreachable):
        return str(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    return type(exc).__name__
