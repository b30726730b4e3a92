"""Failure budgets for management secrets: wrong guesses are slowed down, never refused.

Failures are counted per address group and globally. A group is what one attacker can
cheaply switch between: every loopback address (all of 127.0.0.0/8 and ::1) is one
group, an IPv6 client is its /64, an IPv4 client its own address. Once a group has
failed ``max-failures`` times (or all groups together ten times that), each further
wrong guess is answered only after a delay that doubles per failure, up to
``max-delay`` seconds. Nothing is ever refused before the presented secret is checked,
so the owner's right secret is never locked out by someone else's wrong ones. A group's
count is forgotten ``lockout`` seconds after its last failure.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

GLOBAL_BUDGET_FACTOR = 10
FIRST_DELAY = 0.25
_TRACKED_GROUPS = 4096


def address_group(address: str) -> str:
    """The key failures from ``address`` are counted under."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class Budget:
    count: int = 0
    last_failure: float = 0.0


class FailureThrottle:
    """Counts wrong guesses and says how long the next wrong answer must wait."""

    def __init__(self, max_failures: int, forget_after: float, max_delay: float) -> None:
        self._groups: dict[str, Budget] = {}
        self._global = Budget()
        self.configure(max_failures, forget_after, max_delay)

    def configure(self, max_failures: int, forget_after: float, max_delay: float) -> None:
        self.max_failures = max_failures
        self.forget_after = forget_after
        self.max_delay = max_delay

    def fail(self, group: str, now: float) -> float:
        """Records one failure from ``group``; returns the delay its answer must wait."""
        self._forget_stale(now)
        budget = self._groups.setdefault(group, Budget())
        excess = 0
        for counted, allowed in (
            (budget, self.max_failures),
            (self._global, self.max_failures * GLOBAL_BUDGET_FACTOR),
        ):
            if now - counted.last_failure > self.forget_after:
                counted.count = 0
            counted.count += 1
            counted.last_failure = now
            excess = max(excess, counted.count - allowed)
        if excess <= 0:
            return 0.0
        return min(self.max_delay, FIRST_DELAY * 2 ** min(excess - 1, 32))

    def failures(self, group: str) -> int:
        budget = self._groups.get(group)
        return budget.count if budget else 0

    def _forget_stale(self, now: float) -> None:
        if len(self._groups) < _TRACKED_GROUPS:
            return
        stale = [g for g, b in self._groups.items() if now - b.last_failure > self.forget_after]
        oldest = sorted(self._groups, key=lambda g: self._groups[g].last_failure)
        for group in stale or oldest[: len(oldest) // 2]:
            del self._groups[group]
