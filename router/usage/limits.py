"""Enforcing an issued key's expiry, models, rate limit and budgets.

Budgets count tokens (input + output) and cost in UTC calendar days and months. The
counters live in memory, are fed by every finished request, and start from the usage
ledger when the router starts (without a ledger they start at zero). A request is
refused once the key has used its budget; a request that starts under the budget may
end over it. Cost budgets count what requests cost, and a subscription-backed request
costs 0 (router/usage/prices.py): limit those with a token budget. Rate limits count
requests in the last 60 seconds.

With several workers (router/shared/), each worker publishes its keys' spend about once
a second and adds up the others' (a budget may be overrun by the requests of that
second, as by one long request); rate limits are counted in the shared store, exactly.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from router.errors import ErrorKind, ProxyError
from router.logs import utc_iso
from router.shared import SharedState
from router.usage.keys import IssuedKey
from router.usage.ledger import GENERATE, connect
from router.usage.prices import Cost

_WINDOW = 60.0


@dataclass
class Spent:
    day: str = ""
    month: str = ""
    day_tokens: int = 0
    day_cost: float = 0.0
    month_tokens: int = 0
    month_cost: float = 0.0


def _periods(now: float) -> tuple[str, str, float, float]:
    """(day, month, next midnight, next first of the month) in UTC."""
    moment = datetime.fromtimestamp(now, UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return (
        midnight.strftime("%Y-%m-%d"),
        first.strftime("%Y-%m"),
        (midnight + timedelta(days=1)).timestamp(),
        next_month.timestamp(),
    )


class KeyLimits:
    def __init__(
        self, clock: Callable[[], float] = time.time, shared: SharedState | None = None
    ) -> None:
        self._clock = clock
        self._spent: dict[str, Spent] = {}
        self._recent: dict[str, deque[float]] = {}
        # Other workers' stores and documents; None in a single process.
        self.shared = shared

    def published(self) -> dict[str, list[object]]:
        """This worker's spend per key, for its worker document."""
        return {
            name: [s.day, s.month, s.day_tokens, s.day_cost, s.month_tokens, s.month_cost]
            for name, s in self._spent.items()
        }

    def _total(self, name: str) -> Spent:
        """This worker's spend of ``name`` plus what the other workers published."""
        mine = self._current(name)
        if self.shared is None:
            return mine
        total = Spent(**vars(mine))
        for worker, document in self.shared.documents().items():
            row = document.get("key_spend", {}).get(name) if worker != self.shared.worker else None
            if not row:
                continue
            day, month, day_tokens, day_cost, month_tokens, month_cost = row
            if month == total.month:
                total.month_tokens += month_tokens
                total.month_cost += month_cost
            if day == total.day:
                total.day_tokens += day_tokens
                total.day_cost += day_cost
        return total

    def seed_from_ledger(self, path: Path) -> None:
        """This month's and today's use per key, from the ledger's committed rows."""
        day, month, _, _ = _periods(self._clock())
        month_start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC).timestamp()
        day_start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
        sql = (
            "SELECT key, ts >= ? AS today, SUM(tokens_in + tokens_out), "
            "SUM(COALESCE(cost_usd, 0)) FROM requests WHERE ts >= ? AND key IS NOT NULL "
            f"AND operation = '{GENERATE}' "
            "GROUP BY key, today"
        )
        connection = connect(path)
        try:
            rows = connection.execute(sql, (day_start, month_start)).fetchall()
        finally:
            connection.close()
        for name, today, tokens, cost in rows:
            spent = self._current(name)
            spent.month_tokens += tokens or 0
            spent.month_cost += cost or 0.0
            if today:
                spent.day_tokens += tokens or 0
                spent.day_cost += cost or 0.0

    def _current(self, name: str) -> Spent:
        day, month, _, _ = _periods(self._clock())
        spent = self._spent.setdefault(name, Spent(day, month))
        if spent.month != month:
            spent.month, spent.month_tokens, spent.month_cost = month, 0, 0.0
        if spent.day != day:
            spent.day, spent.day_tokens, spent.day_cost = day, 0, 0.0
        return spent

    def record(self, fields: Mapping[str, object], cost: Cost, _seconds: float) -> None:
        """An observer sink: add a finished request to its key's spend."""
        name = fields.get("key")
        if not isinstance(name, str):
            return
        tokens = sum(v for k in ("tokens_in", "tokens_out") if isinstance(v := fields.get(k), int))
        spent = self._current(name)
        spent.day_tokens += tokens
        spent.month_tokens += tokens
        spent.day_cost += cost.usd or 0.0
        spent.month_cost += cost.usd or 0.0

    def spent(self, name: str) -> dict[str, float]:
        spent = self._total(name)
        return {
            "tokens_today": spent.day_tokens,
            "tokens_this_month": spent.month_tokens,
            "cost_today": round(spent.day_cost, 6),
            "cost_this_month": round(spent.month_cost, 6),
            "requests_last_minute": len(self._recent_of(name)),
        }

    def _recent_of(self, name: str) -> deque[float]:
        recent = self._recent.setdefault(name, deque())
        cutoff = self._clock() - _WINDOW
        while recent and recent[0] <= cutoff:
            recent.popleft()
        return recent

    def admit(self, key: IssuedKey) -> None:
        """Raise the caller's 403/429 unless ``key`` may make a request now.

        A revoked or expired key is a 403, not a 401: no retry can fix it, and Claude Code
        retries a 401 for minutes without showing it.
        """
        now = self._clock()
        if key.revoked_at is not None:
            raise ProxyError(403, f"API key {key.name!r} was revoked", ErrorKind.PERMISSION)
        if key.expires_at is not None and key.expires_at <= now:
            raise ProxyError(
                403,
                f"API key {key.name!r} expired at {utc_iso(key.expires_at)}",
                ErrorKind.PERMISSION,
            )
        self._check_budgets(key, now)
        limit = key.limits.requests_per_minute
        recent = self._recent_of(key.name)
        if limit is not None and self.shared is not None:
            oldest = self.shared.admit_request(key.name, limit, now, _WINDOW)
        elif limit is not None and len(recent) >= limit:
            oldest = recent[0]
        else:
            oldest = None
        if oldest is not None:
            raise _over(key, f"rate limit of {limit} requests per minute", oldest + _WINDOW, now)
        recent.append(now)

    def _check_budgets(self, key: IssuedKey, now: float) -> None:
        limits, spent = key.limits, self._total(key.name)
        _, _, tomorrow, next_month = _periods(now)
        checks = (
            ("tokens-per-day", limits.tokens_per_day, spent.day_tokens, "tokens", tomorrow),
            ("tokens-per-month", limits.tokens_per_month, spent.month_tokens, "tokens", next_month),
            ("cost-per-day", limits.cost_per_day, spent.day_cost, "USD", tomorrow),
            ("cost-per-month", limits.cost_per_month, spent.month_cost, "USD", next_month),
        )
        for name, limit, used, unit, resets in checks:
            if limit is not None and used >= limit:
                used_text = f"{used:g}" if unit == "tokens" else f"{used:.4f}"
                raise _over(
                    key, f"budget {name} ({used_text} of {limit:g} {unit} used)", resets, now
                )


def _over(key: IssuedKey, what: str, resets: float, now: float) -> ProxyError:
    return ProxyError(
        429,
        f"API key {key.name!r} is over its {what}; it resets at {utc_iso(resets)}",
        ErrorKind.RATE_LIMIT,
        retry_after=resets - now,
    )
