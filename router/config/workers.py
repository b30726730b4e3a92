"""``workers``: how many router processes serve the port (router/workers/)."""

from __future__ import annotations

import os

from router.config.binder import Problems

MAX_WORKERS = 64
AUTO = "auto"


def check_workers(value: str, problems: Problems) -> None:
    if value == AUTO:
        return
    if not value.isdigit() or not 1 <= int(value) <= MAX_WORKERS:
        problems.add(
            "workers", f"expected auto or a whole number from 1 to {MAX_WORKERS}, got {value!r}"
        )


def worker_count(value: str, cpus: int | None = None) -> int:
    """``auto`` is the number of cores (at least 1); anything else is the number given."""
    if value == AUTO:
        return max(1, cpus if cpus is not None else (os.cpu_count() or 1))
    return int(value)
