"""CPU time a process tree spends: the cost measure of issue 16, less noisy than req/s.

Throughput on a shared 2-core machine moves with whatever else runs; the CPU seconds a
server burns per request served barely do. ``CpuMeter`` reads user + system time of a
process and all its children (router workers, a sidecar's browser) from /proc via psutil.
"""

from __future__ import annotations

import psutil


def tree_cpu_seconds(pid: int) -> float:
    """User + system seconds of ``pid`` and its live descendants."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


class CpuMeter:
    """``with CpuMeter(pid) as meter: ...`` then ``meter.seconds``; ``per(n)`` in ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> CpuMeter:
        self._start = tree_cpu_seconds(self.pid)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = tree_cpu_seconds(self.pid) - self._start

    def per_ms(self, count: int) -> float:
        """Milliseconds of CPU per unit of work (request, chunk)."""
        return self.seconds * 1000 / count if count else 0.0
