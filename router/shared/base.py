"""The shared-state interface and its single-process implementation."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

CooldownKey = tuple[str, str, str]
# Values held for a later take or peek (logins in progress, reasoning kept across a tool
# loop); the one closest to expiry goes first beyond this.
MAX_HELD = 4096


@dataclass(frozen=True)
class CooldownRow:
    """One (provider, credential, model) rest; ``until`` is CLOCK_MONOTONIC seconds,
    which every process of one machine shares."""

    provider: str
    credential: str
    model: str
    until: float
    failures: int
    reason: str

    @property
    def key(self) -> CooldownKey:
        return (self.provider, self.credential, self.model)


class SharedState(Protocol):
    """What one worker process shares with the others."""

    worker: int

    def cooldowns_version(self) -> int:
        """Changes whenever any worker changed a cooldown; cheap enough per request."""
        ...

    def cooldowns(self) -> list[CooldownRow]: ...

    def put_cooldown(self, row: CooldownRow) -> None: ...

    def delete_cooldowns(self, keys: list[CooldownKey]) -> None: ...

    def lock(self, name: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held by one worker at a time (e.g. while a credential's token is refreshed)."""
        ...

    def hold(self, name: str, value: str, expires_at: float) -> None:
        """Keep ``value`` under ``name`` until ``expires_at`` (CLOCK_MONOTONIC seconds)
        for one later ``take`` by any worker (e.g. a login's PKCE verifier)."""
        ...

    def take(self, name: str, now: float) -> str | None:
        """The value held under ``name`` and not expired at ``now``, removed; at most one
        caller gets it."""
        ...

    def peek(self, name: str, now: float) -> str | None:
        """The value held under ``name`` and not expired at ``now``, left in place."""
        ...

    def admit_request(self, name: str, limit: int, now: float, window: float) -> float | None:
        """Count one request of ``name`` unless ``limit`` requests already fell in the
        last ``window`` seconds; then nothing is counted and the oldest one's time comes
        back (the limit resets ``window`` after it)."""
        ...

    def publish(self, document: dict[str, Any]) -> None:
        """Replace this worker's document (health, relay sessions, spend per key)."""
        ...

    def documents(self, fresh: bool = False) -> dict[int, dict[str, Any]]:
        """Every live worker's latest document, this one's included; ``fresh`` reads past
        any cache (a worker about to answer that nothing holds what it looks for)."""
        ...

    def close(self) -> None: ...


class LocalState:
    """One process: nothing to share, so cooldowns stay in the ``Cooldowns`` object."""

    worker = 0

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._document: dict[str, Any] = {}
        self._recent: dict[str, deque[float]] = {}
        self._held: dict[str, tuple[str, float]] = {}

    def cooldowns_version(self) -> int:
        return 0

    def cooldowns(self) -> list[CooldownRow]:
        return []

    def put_cooldown(self, row: CooldownRow) -> None:
        return None

    def delete_cooldowns(self, keys: list[CooldownKey]) -> None:
        return None

    def hold(self, name: str, value: str, expires_at: float) -> None:
        if len(self._held) >= MAX_HELD:
            del self._held[min(self._held, key=lambda k: self._held[k][1])]
        self._held[name] = (value, expires_at)

    def take(self, name: str, now: float) -> str | None:
        value, expires_at = self._held.pop(name, ("", 0.0))
        return value if expires_at > now else None

    def peek(self, name: str, now: float) -> str | None:
        value, expires_at = self._held.get(name, ("", 0.0))
        return value if expires_at > now else None

    def admit_request(self, name: str, limit: int, now: float, window: float) -> float | None:
        recent = self._recent.setdefault(name, deque())
        while recent and recent[0] <= now - window:
            recent.popleft()
        if len(recent) >= limit:
            return recent[0]
        recent.append(now)
        return None

    @contextlib.asynccontextmanager
    async def lock(self, name: str) -> AsyncIterator[None]:
        held = self._locks.setdefault(name, asyncio.Lock())
        async with held:
            yield

    def publish(self, document: dict[str, Any]) -> None:
        self._document = {**document, "updated": time.time()}

    def documents(self, fresh: bool = False) -> dict[int, dict[str, Any]]:
        return {0: self._document} if self._document else {}

    def close(self) -> None:
        return None
