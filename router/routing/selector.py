"""Orders the credentials of each target by strategy and skips those cooling down."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from router.routing.cooldown import Cooldowns
from router.routing.table import Target
from router.upstreams.base import Upstream, UpstreamCredential


@dataclass(frozen=True)
class Candidate:
    """One upstream + credential + upstream model name to try."""

    upstream: Upstream
    credential: UpstreamCredential
    model: str


class Selector:
    """Round-robin or fill-first across the credentials of one provider."""

    def __init__(self, strategy: str, cooldowns: Cooldowns) -> None:
        self.strategy = strategy
        self.cooldowns = cooldowns
        self._turns: dict[tuple[str, str], int] = {}

    def credentials_for(self, target: Target) -> list[UpstreamCredential]:
        creds = [
            c
            for c in target.upstream.credentials
            if target.credential is None or c.name == target.credential
        ]
        if self.strategy == "round-robin" and len(creds) > 1:
            key = (target.upstream.name, target.model)
            turn = self._turns.get(key, 0)
            self._turns[key] = turn + 1
            start = turn % len(creds)
            creds = creds[start:] + creds[:start]
        return creds

    def candidates(self, targets: Sequence[Target]) -> Iterator[Candidate]:
        """Candidates not cooling down, in order; cooldowns are checked as each is reached."""
        for target in targets:
            for credential in self.credentials_for(target):
                rest = self.cooldowns.remaining(target.upstream.name, credential.name, target.model)
                if rest <= 0:
                    yield Candidate(target.upstream, credential, target.model)

    def soonest_available(self, targets: Sequence[Target]) -> float | None:
        """Seconds until the first cooling credential returns; None if none is cooling."""
        rests = [
            self.cooldowns.remaining(t.upstream.name, c.name, t.model)
            for t in targets
            for c in t.upstream.credentials
            if t.credential is None or c.name == t.credential
        ]
        rests = [r for r in rests if r > 0]
        return min(rests) if rests else None
