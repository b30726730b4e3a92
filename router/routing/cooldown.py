"""Cooldowns: a failing credential rests for a model before it is tried again.

Retry-After is honoured up to ``retry-after-max`` seconds; otherwise the rest doubles from
``initial`` up to ``max`` with each consecutive failure; an authentication failure rests the
credential for every model for ``auth-failure`` seconds. A success clears the count.

With several worker processes the states are shared (router/shared/): each change is
written through, and a worker re-reads them when the shared version moved.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from router.config.schema import CooldownConfig
from router.shared import CooldownRow, LocalState, SharedState

ALL_MODELS = "*"
_PRUNE_AT = 4096


@dataclass
class CooldownState:
    until: float = 0.0
    failures: int = 0
    reason: str = ""


class Cooldowns:
    """Cooldown state per (provider, credential, model); survives config reloads."""

    def __init__(
        self,
        config: CooldownConfig,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedState | None = None,
    ):
        self.config = config
        self._clock = clock
        self._states: dict[tuple[str, str, str], CooldownState] = {}
        self._shared: SharedState = shared or LocalState()
        self._version = self._shared.cooldowns_version()

    def _sync(self) -> None:
        """Take in other workers' changes (a no-op in a single process)."""
        version = self._shared.cooldowns_version()
        if version == self._version:
            return
        self._version = version
        self._states = {
            row.key: CooldownState(row.until, row.failures, row.reason)
            for row in self._shared.cooldowns()
        }

    def _write(self, key: tuple[str, str, str], state: CooldownState) -> None:
        self._shared.put_cooldown(CooldownRow(*key, state.until, state.failures, state.reason))
        self._version = self._shared.cooldowns_version()

    def _forget(self, keys: list[tuple[str, str, str]]) -> None:
        self._shared.delete_cooldowns(keys)
        self._version = self._shared.cooldowns_version()

    def remaining(self, provider: str, credential: str, model: str) -> float:
        self._sync()
        now = self._clock()
        rest = 0.0
        for key in ((provider, credential, model), (provider, credential, ALL_MODELS)):
            state = self._states.get(key)
            if state is not None and state.until > now:
                rest = max(rest, state.until - now)
        return rest

    def fail(
        self,
        provider: str,
        credential: str,
        model: str,
        reason: str,
        *,
        retry_after: float | None = None,
        auth: bool = False,
        quota: bool = False,
    ) -> float:
        """Record a failure; returns the seconds of rest it earned.

        ``quota``: a usage limit was reached; without Retry-After it rests ``quota`` seconds.
        """
        self._sync()
        key = (provider, credential, ALL_MODELS if auth else model)
        if len(self._states) >= _PRUNE_AT:
            self._prune()
        state = self._states.setdefault(key, CooldownState())
        state.failures += 1
        if retry_after is not None and math.isfinite(retry_after) and retry_after >= 0:
            rest = min(retry_after, self.config.retry_after_max)
        elif auth:
            rest = self.config.auth_failure
        elif quota:
            rest = self.config.quota
        else:
            rest = min(self.config.initial * 2 ** (state.failures - 1), self.config.max)
        state.until = self._clock() + rest
        state.reason = reason
        self._write(key, state)
        return rest

    def _prune(self) -> None:
        """Forget failure counts that have rested far longer than the longest cooldown."""
        horizon = self._clock() - max(self.config.max, self.config.auth_failure)
        stale = [k for k, s in self._states.items() if s.until < horizon]
        for key in stale:
            del self._states[key]
        self._forget(stale)

    def succeed(self, provider: str, credential: str, model: str) -> None:
        self._sync()
        key = (provider, credential, model)
        if self._states.pop(key, None) is not None:
            self._forget([key])

    def reset(self, provider: str | None = None, credential: str | None = None) -> int:
        """Clear cooldowns (of one provider or credential, or all); returns how many."""
        self._sync()
        keys = [
            k
            for k in self._states
            if (provider is None or k[0] == provider) and (credential is None or k[1] == credential)
        ]
        for key in keys:
            del self._states[key]
        self._forget(keys)
        return len(keys)

    def active(self, provider: str) -> list[dict[str, object]]:
        """Current cooldowns of ``provider`` for /v1/health."""
        self._sync()
        now = self._clock()
        return [
            {
                "credential": credential,
                "model": model,
                "remaining_s": round(state.until - now, 1),
                "reason": state.reason,
            }
            for (name, credential, model), state in self._states.items()
            if name == provider and state.until > now
        ]
