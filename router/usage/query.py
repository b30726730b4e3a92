"""Reading the ledger: totals grouped by key, model, provider and/or day, in a time range."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from router.errors import bad_request
from router.usage.ledger import COUNT_TOKENS, GENERATE, connect

GROUPS = {
    "key": "COALESCE(key, '')",
    "model": "COALESCE(model, '')",
    "provider": "COALESCE(provider, '')",
    "day": "strftime('%Y-%m-%d', ts, 'unixepoch')",
    "operation": "operation",
}
# ``?operation=``: generation only by default (a count's tokens were not used).
OPERATIONS = (GENERATE, COUNT_TOKENS, "all")
_TOTALS = (
    ("requests", "COUNT(*)"),
    ("errors", "SUM(status >= 400)"),
    ("tokens_in", "SUM(tokens_in)"),
    ("tokens_out", "SUM(tokens_out)"),
    ("tokens_cached", "SUM(tokens_cached)"),
    ("tokens_reasoning", "SUM(tokens_reasoning)"),
    ("cost_usd", "ROUND(SUM(cost_usd), 6)"),
    ("api_equivalent_usd", "ROUND(SUM(api_equivalent_usd), 6)"),
    ("unpriced_requests", "SUM(api_equivalent_usd IS NULL)"),
    ("avg_latency_ms", "ROUND(AVG(latency_ms), 1)"),
    ("avg_ttft_ms", "ROUND(AVG(ttft_ms), 1)"),
)
RECENT_COLUMNS = (
    "ts", "request_id", "key", "format", "model", "provider", "credential", "upstream_model",
    "stream", "status", "error", "tokens_in", "tokens_out", "cost_usd", "api_equivalent_usd",
    "latency_ms", "ttft_ms", "operation",
)  # fmt: skip


@dataclass(frozen=True)
class UsageQuery:
    groups: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    operation: str = GENERATE


def parse_time(value: str, name: str) -> float:
    """Epoch seconds, ``YYYY-MM-DD`` or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(
            f"{name}: expected epoch seconds, YYYY-MM-DD or an ISO 8601 time, got {value!r}", name
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_query(params: dict[str, str]) -> UsageQuery:
    groups = tuple(g for g in (params.get("group") or "").split(",") if g)
    for group in groups:
        if group not in GROUPS:
            raise bad_request(
                f"group: unknown grouping {group!r} (expected any of {', '.join(GROUPS)}, "
                "comma-separated)",
                "group",
            )
    since = parse_time(params["from"], "from") if params.get("from") else None
    until = parse_time(params["to"], "to") if params.get("to") else None
    operation = params.get("operation") or GENERATE
    if operation not in OPERATIONS:
        raise bad_request(
            f"operation: expected one of {', '.join(OPERATIONS)}, got {operation!r}", "operation"
        )
    return UsageQuery(groups, since, until, operation)


def _where(query: UsageQuery) -> tuple[str, list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    if query.operation != "all":
        clauses.append("operation = ?")
        args.append(query.operation)
    if query.since is not None:
        clauses.append("ts >= ?")
        args.append(query.since)
    if query.until is not None:
        clauses.append("ts < ?")
        args.append(query.until)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def usage_rows(path: Path, query: UsageQuery) -> list[dict[str, object]]:
    """One dict per group (one in all without grouping), sorted by the groups."""
    selected = [f"{GROUPS[g]} AS {g}" for g in query.groups]
    selected += [f"{expr} AS {name}" for name, expr in _TOTALS]
    where, args = _where(query)
    sql = f"SELECT {', '.join(selected)} FROM requests{where}"
    if query.groups:
        order = ", ".join(query.groups)
        sql += f" GROUP BY {order} ORDER BY {order}"
    return _fetch(path, sql, args)


def recent_rows(path: Path, limit: int) -> list[dict[str, object]]:
    sql = f"SELECT {', '.join(RECENT_COLUMNS)} FROM requests ORDER BY id DESC LIMIT ?"
    return _fetch(path, sql, [limit])


def _fetch(path: Path, sql: str, args: list[object]) -> list[dict[str, object]]:
    connection = connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql, args)]
    finally:
        connection.close()


def as_csv(rows: list[dict[str, object]]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
