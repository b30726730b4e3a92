"""Config sections for metrics, the usage ledger and prices (issue 14).

The ledger, the price overrides and the issued client keys live under the data
directory: ``usage.path``'s directory, by default the parent of ``auth-dir``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from router.config.binder import Problems, check_positive, join


@dataclass(frozen=True)
class MetricsConfig:
    """Prometheus metrics at /metrics."""

    enabled: bool = True
    # false: /metrics is guarded like the management routes (loopback or the secret).
    public: bool = False


@dataclass(frozen=True)
class ModelPrice:
    """US dollars per million tokens; ``cached`` prices cache reads (default: input)."""

    input: float
    output: float
    cached: float | None = None

    def check(self, path: str, problems: Problems) -> None:
        for key in ("input", "output", "cached"):
            value = getattr(self, key)
            if value is not None and value < 0:
                problems.add(join(path, key), f"expected a price >= 0, got {value}")


@dataclass(frozen=True)
class UsageConfig:
    """The usage ledger: one SQLite row per generation request, written in batches."""

    enabled: bool = True
    # Empty: usage.sqlite beside the auth directory (in its parent).
    path: str = ""
    retention_days: int = 90
    # A batch is written when it holds this many rows or is this many seconds old. Each
    # commit rewrites the table's and indexes' last pages into the WAL, so fewer, larger
    # batches halve the writer's CPU per row under load (make bench, usage-overhead);
    # queries flush first, so they never miss a row.
    flush_rows: int = 2000
    flush_interval: float = 1.0
    # Rows waiting to be written; beyond it rows are dropped (and counted) rather than
    # slowing requests down.
    queue_size: int = 20000
    # Model name (or glob) -> price, over the shipped table (router/usage/prices.json).
    prices: dict[str, ModelPrice] = field(default_factory=dict)

    def check(self, path: str, problems: Problems) -> None:
        check_positive(
            {
                "retention_days": self.retention_days,
                "flush_rows": self.flush_rows,
                "flush_interval": self.flush_interval,
                "queue_size": self.queue_size,
            },
            path,
            problems,
        )

    def data_dir(self, auth_dir: str) -> Path:
        if self.path:
            return Path(self.path).expanduser().parent
        return Path(auth_dir).expanduser().parent

    def ledger_path(self, auth_dir: str) -> Path:
        if self.path:
            return Path(self.path).expanduser()
        return self.data_dir(auth_dir) / "usage.sqlite"
