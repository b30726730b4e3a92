"""Counts streams that died mid-way per credential; too many within a window cools it.

Once a stream has started nothing can fail over, so a credential (or the backend behind
it) that keeps cutting streams would keep being chosen. After ``failures`` deaths within
``window`` seconds the credential rests for the model like one that failed before
answering. A client going away is never reported here.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

_PRUNE_AT = 4096


class StreamDeaths:
    """Recent mid-stream deaths per (provider, credential, model)."""

    def __init__(
        self, failures: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.window = window
        self._clock = clock
        self._deaths: dict[tuple[str, str, str], deque[float]] = {}

    def record(self, provider: str, credential: str, model: str) -> bool:
        """Note one death; True when it makes ``failures`` within the window (count reset)."""
        now = self._clock()
        if len(self._deaths) >= _PRUNE_AT:
            self._prune(now)
        key = (provider, credential, model)
        deaths = self._deaths.setdefault(key, deque())
        deaths.append(now)
        while deaths and deaths[0] <= now - self.window:
            deaths.popleft()
        if len(deaths) < self.failures:
            return False
        del self._deaths[key]
        return True

    def _prune(self, now: float) -> None:
        for key in [k for k, d in self._deaths.items() if not d or d[-1] <= now - self.window]:
            del self._deaths[key]
