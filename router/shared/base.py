"""The shared-state interface and its single-process implementation."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

CooldownKey = tuple[str, str, str]


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

    def publish(self, document: dict[str, Any]) -> None:
        """Replace this worker's document (health, relay sessions, its socket)."""
        ...

    def documents(self) -> dict[int, dict[str, Any]]:
        """Every live worker's latest document, this one's included."""
        ...

    def close(self) -> None: ...


class LocalState:
    """One process: nothing to share, so cooldowns stay in the ``Cooldowns`` object."""

    worker = 0

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._document: dict[str, Any] = {}

    def cooldowns_version(self) -> int:
        return 0

    def cooldowns(self) -> list[CooldownRow]:
        return []

    def put_cooldown(self, row: CooldownRow) -> None:
        return None

    def delete_cooldowns(self, keys: list[CooldownKey]) -> None:
        return None

    @contextlib.asynccontextmanager
    async def lock(self, name: str) -> AsyncIterator[None]:
        held = self._locks.setdefault(name, asyncio.Lock())
        async with held:
            yield

    def publish(self, document: dict[str, Any]) -> None:
        self._document = {**document, "updated": time.time()}

    def documents(self) -> dict[int, dict[str, Any]]:
        return {0: self._document} if self._document else {}

    def close(self) -> None:
        return None
