"""Orders the credentials of each target by strategy and skips those cooling down.

Round-robin is smooth weighted round-robin (each credential's ``weight``, 1 by default):
every turn adds each credential's weight to its running score, the highest score goes
first and gives back the total, so a 3:1 pair runs a a b a a a b a ... rather than in
bursts. Equal weights make it plain rotation. The credentials after the first keep their
rotation order, for failover. A sticky credential (the one a conversation used last) goes
first within its target while it is not cooling down, without taking a turn; targets keep
their order, so a conversation that failed over to a fallback returns to the primary.
"""

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


@dataclass(frozen=True)
class Pin:
    """A (provider, credential) a conversation should keep using while it is healthy."""

    provider: str
    credential: str


class Selector:
    """Round-robin (weighted) or fill-first across the credentials of one provider."""

    def __init__(self, strategy: str, cooldowns: Cooldowns) -> None:
        self.strategy = strategy
        self.cooldowns = cooldowns
        self._scores: dict[tuple[str, str], dict[str, int]] = {}

    def credentials_for(self, target: Target, *, advance: bool = True) -> list[UpstreamCredential]:
        """``target``'s credentials in the order of this turn; ``advance=False`` only looks
        (route explain in a running router must not take a request's turn)."""
        creds = [
            c
            for c in target.upstream.credentials
            if target.credential is None or c.name == target.credential
        ]
        if self.strategy == "round-robin" and len(creds) > 1:
            key = (target.upstream.name, target.model)
            start = self._next_turn(key, creds) if advance else self._peek_turn(key, creds)
            creds = creds[start:] + creds[:start]
        return creds

    def _next_turn(self, key: tuple[str, str], creds: list[UpstreamCredential]) -> int:
        """Index of the credential whose turn it is (smooth weighted round-robin)."""
        scores = self._scores.setdefault(key, {})
        total = 0
        best = 0
        best_score = None
        for index, cred in enumerate(creds):
            score = scores.get(cred.name, 0) + cred.weight
            scores[cred.name] = score
            total += cred.weight
            if best_score is None or score > best_score:
                best, best_score = index, score
        scores[creds[best].name] -= total
        return best

    def _peek_turn(self, key: tuple[str, str], creds: list[UpstreamCredential]) -> int:
        """The index ``_next_turn`` would return, leaving the scores as they are."""
        scores = self._scores.get(key, {})
        turns = [scores.get(cred.name, 0) + cred.weight for cred in creds]
        return turns.index(max(turns))

    def candidates(self, targets: Sequence[Target], pin: Pin | None = None) -> Iterator[Candidate]:
        """Candidates not cooling down, in order; cooldowns are checked as each is reached.

        ``pin``: a credential to try first within its own target while it is healthy (the
        order of targets, primary before fallback, still holds).
        """
        for target in targets:
            pinned = self.pinned_candidate([target], pin) if pin is not None else None
            if pinned is not None:
                yield pinned
            for credential in self.credentials_for(target):
                if pinned is not None and pinned.credential.name == credential.name:
                    continue
                rest = self.cooldowns.remaining(target.upstream.name, credential.name, target.model)
                if rest <= 0:
                    yield Candidate(target.upstream, credential, target.model)

    def pinned_candidate(self, targets: Sequence[Target], pin: Pin) -> Candidate | None:
        """The pinned credential as a candidate, if a target has it and it is not cooling."""
        for target in targets:
            if target.upstream.name != pin.provider:
                continue
            if target.credential is not None and target.credential != pin.credential:
                continue
            for credential in target.upstream.credentials:
                if credential.name != pin.credential:
                    continue
                if self.cooldowns.remaining(pin.provider, credential.name, target.model) > 0:
                    return None
                return Candidate(target.upstream, credential, target.model)
        return None

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
