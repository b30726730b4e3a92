"""One row per system: its rounds, their medians, and the markdown table of them all."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

COLUMNS = ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request")
HEADER = (
    "| system | path measured | req/s | p50 ms | p99 ms | CPU ms/request | note |",
    "|---|---|---|---|---|---|---|",
)


@dataclass
class Row:
    """A system's measurement: one dict per round (``COLUMNS`` plus ``errors``), or the
    reason it has none (``failure``: install, start or a round failed)."""

    key: str
    system: str
    path: str
    rounds: list[dict[str, float]] = field(default_factory=list)
    failure: str | None = None
    outside: set[str] = field(default_factory=set)

    def medians(self) -> dict[str, float] | None:
        if not self.rounds:
            return None
        found = {c: statistics.median(r[c] for r in self.rounds) for c in COLUMNS}
        found["errors"] = sum(r.get("errors", 0) for r in self.rounds)
        return found

    def note(self) -> str:
        parts = []
        if self.failure:
            parts.append(f"failed: {_one_line(self.failure)}")
        medians = self.medians()
        if medians and medians["errors"]:
            parts.append(f"{medians['errors']:g} errors")
        if self.outside:
            parts.append("talked to " + ", ".join(sorted(self.outside)))
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "system": self.system,
            "path": self.path,
            "median": self.medians(),
            "rounds": self.rounds,
            "failure": self.failure,
            "outside_addresses": sorted(self.outside),
        }


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.split()).replace("|", "/")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _number(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def markdown(rows: list[Row]) -> str:
    """The table as markdown; a row without rounds shows dashes and its failure."""
    lines = list(HEADER)
    for row in rows:
        medians = row.medians()
        if medians is None:
            cells = ["—"] * len(COLUMNS)
        else:
            cells = [
                _number(medians["rps"], 0),
                _number(medians["p50_ms"], 1),
                _number(medians["p99_ms"], 1),
                _number(medians["cpu_ms_per_request"], 2),
            ]
        lines.append(f"| {row.system} | {row.path} | {' | '.join(cells)} | {row.note()} |")
    return "\n".join(lines) + "\n"
