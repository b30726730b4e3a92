"""Named benchmarks and the shape of what they report.

A benchmark is an async function taking ``RunOptions`` and returning a ``BenchResult``;
``@benchmark(name, group, summary)`` registers it. ``python -m bench NAME`` runs one,
``python -m bench GROUP`` runs every benchmark of a group. Adding one: write the function
in a module of this package, decorate it, and import the module in ``bench/suites.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunOptions:
    """What every benchmark is given: run length, where to put files, which load tool."""

    quick: bool
    workdir: Path
    load_tool: str

    def say(self, message: str) -> None:
        """One human-readable progress line (stderr, so stdout stays pure JSON)."""
        print(message, file=sys.stderr, flush=True)


@dataclass
class Target:
    """One goal from the issue: ``value`` compared with ``limit``."""

    name: str
    description: str
    value: float
    limit: float
    unit: str
    higher_is_better: bool = False

    @property
    def passed(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def line(self) -> str:
        sign = ">=" if self.higher_is_better else "<="
        verdict = "PASS" if self.passed else "MISSED"
        return (
            f"{verdict:6} {self.name}: {self.value:g} {self.unit} "
            f"(target {sign} {self.limit:g} {self.unit}) - {self.description}"
        )


@dataclass
class BenchResult:
    """Every number a benchmark measured, its targets and free-form notes."""

    numbers: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "numbers": self.numbers,
            "targets": [t.as_dict() for t in self.targets],
            "notes": self.notes,
        }


BenchFunction = Callable[[RunOptions], Awaitable[BenchResult]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    group: str
    summary: str
    run: BenchFunction


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, group: str, summary: str) -> Callable[[BenchFunction], BenchFunction]:
    """Register ``run`` under ``name`` (unique) in ``group``."""

    def register(run: BenchFunction) -> BenchFunction:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        REGISTRY[name] = Benchmark(name, group, summary, run)
        return run

    return register


def groups() -> dict[str, list[str]]:
    """Group name -> benchmark names, in registration order."""
    found: dict[str, list[str]] = {}
    for bench in REGISTRY.values():
        found.setdefault(bench.group, []).append(bench.name)
    return found


def select(names: list[str]) -> list[Benchmark]:
    """Benchmarks named (or in groups named), in registration order; all when empty."""
    if not names:
        return list(REGISTRY.values())
    known = groups()
    wanted: set[str] = set()
    for name in names:
        if name in REGISTRY:
            wanted.add(name)
        elif name in known:
            wanted.update(known[name])
        else:
            choices = ", ".join([*known, *REGISTRY])
            raise KeyError(f"unknown benchmark or group {name!r}; choose from: {choices}")
    return [b for b in REGISTRY.values() if b.name in wanted]
