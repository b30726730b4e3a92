"""Last outcome of each configured provider, as shown on /health."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from router.logs import utc_iso


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok" or "error"
    reason: str | None
    at: str  # ISO 8601, UTC

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "at": self.at}


class ProviderOutcomes:
    def __init__(self, provider_names: Iterable[str]) -> None:
        self._names = tuple(provider_names)
        self._last: dict[str, Outcome] = {}

    def record_ok(self, provider: str) -> None:
        self._last[provider] = Outcome("ok", None, _now())

    def record_error(self, provider: str, reason: str) -> None:
        self._last[provider] = Outcome("error", reason, _now())

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "last_outcome": self._last[name].as_dict() if name in self._last else None,
            }
            for name in self._names
        ]


def _now() -> str:
    return utc_iso(time.time())
