"""What every upstream offers the dispatcher, whatever its wire format or transport."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router.config.schema import ModelEntry, Timeouts
from router.formats import Format


@dataclass(frozen=True)
class UpstreamCredential:
    """One credential of an upstream; ``secret`` is never printed.

    ``weight``: its share of requests under round-robin (config ``api-keys[].weight``).
    """

    name: str
    secret: str = field(repr=False)
    weight: int = 1


class UpstreamStreamError(ConnectionError):
    """A body that failed part-way, for a reason that is safe to show the client.

    A ConnectionError, so failover and streaming treat it as a lost upstream; the stream's
    error event carries the message instead of a generic one.
    """


GENERATE = "generate"
COUNT_TOKENS = "count_tokens"


@dataclass(frozen=True)
class UpstreamCall:
    """One request to send: a body already in the upstream's format.

    ``operation`` is GENERATE or COUNT_TOKENS (only upstreams with ``counts_tokens``).
    """

    credential: UpstreamCredential
    model: str
    body: bytes
    stream: bool
    request_id: str
    headers: Mapping[str, str] = field(default_factory=dict)
    operation: str = "generate"


class UpstreamReply(abc.ABC):
    """An upstream's answer, open until ``close``; body read chunk by chunk."""

    status: int
    headers: Mapping[str, str]

    @abc.abstractmethod
    async def next_chunk(self) -> bytes:
        """The next piece of the body as it arrives; ``b""`` at the end."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection (dropping it when the body was not read to the end)."""

    def arrived_whole(self) -> bytes | None:
        """The rest of the body when all of it has already arrived (taken: the next
        ``next_chunk`` returns ``b""``), else None; lets a reader skip its timed waits."""
        return None


class Upstream(abc.ABC):
    """A configured provider: its credentials, limits and how to reach it."""

    name: str
    kind: str
    wire_format: Format
    # A 429 without Retry-After means a usage limit (rest routing.cooldown.quota seconds),
    # not a passing rate limit.
    quota_limited: bool = False
    # A subscription: idle until an account is logged in, which is not a fault.
    login_based: bool = False
    # Config system-messages: merge (OpenAI-compatible servers wanting one system message).
    merge_system: bool = False
    timeouts: Timeouts
    models: tuple[ModelEntry, ...]

    # Read-only here: an HTTP upstream keeps them as plain attributes, a subscription or the
    # relay works them out from who is logged in or connected right now.
    @property
    def counts_tokens(self) -> bool:
        """Whether the upstream answers count_tokens itself (else the router estimates)."""
        return False

    @property
    @abc.abstractmethod
    def credentials(self) -> tuple[UpstreamCredential, ...]:
        """The usable credentials, in order; empty while nothing is configured or logged in."""

    @property
    @abc.abstractmethod
    def unconfigured_reason(self) -> str | None:
        """Why the upstream cannot take requests (None when it can)."""

    def accounts(self) -> list[dict[str, Any]]:
        """Logged-in accounts as status shows them (label, expiry, state; never a secret)."""
        return []

    @abc.abstractmethod
    async def open(self, call: UpstreamCall) -> UpstreamReply:
        """Send ``call`` and return once the response status and headers arrived."""

    @abc.abstractmethod
    def active_requests(self) -> int:
        """Replies opened and not yet closed."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release pooled connections."""
