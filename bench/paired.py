"""Two routers sharing one upstream, measured in alternating rounds: req/s and, the
judged number, CPU per request (req/s moves with whatever else runs on the machine; the
CPU a router burns per request served barely does).

The share a feature leaves is ``off CPU / on CPU`` per round: the throughput the router
keeps with the feature on when CPU is what limits it. The median over rounds is judged.

Rounds are short and many: on this kind of host (a VM whose speed moves from second to
second) two identical routers measured 1 s apart differ by ~13% (one standard deviation)
and 2 s apart by ~17%, so thirty 1 s pairs pin the median about two and a half times as
tightly as ten 2 s pairs, in a few more seconds.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench import load
from bench.core import CHAT_PATH, CONNECTIONS
from bench.cpu import CpuMeter
from bench.processes import Child
from bench.registry import RunOptions

ROUNDS = 30
ROUND_SECONDS = 1.0
QUICK_ROUNDS = 2


@dataclass
class Round:
    load: load.LoadResult
    cpu_ms_per_request: float


async def _measure(options: RunOptions, child: Child, seconds: float, yielding: bool) -> Round:
    url = child.url + CHAT_PATH
    with CpuMeter(child.pid) as meter:
        result = await load.run_for(options.load_tool, url, CONNECTIONS, seconds, yielding=yielding)
    return Round(result, meter.per_ms(result.requests))


async def paired_rounds(
    options: RunOptions,
    on: Child,
    off: Child,
    rounds: int,
    seconds: float,
    labels: tuple[str, str],
    yielding: bool = False,
) -> list[tuple[Round, Round]]:
    """``rounds`` alternating (on, off) pairs, the order swapped every other round;
    ``yielding``: the load generator runs under SCHED_BATCH (bench.load.yield_cpu)."""
    for child in (on, off):
        await load.run_for(options.load_tool, child.url + CHAT_PATH, CONNECTIONS, 1.0)
    pairs: list[tuple[Round, Round]] = []
    for number in range(1, rounds + 1):
        if number % 2:
            first = await _measure(options, on, seconds, yielding)
            second = await _measure(options, off, seconds, yielding)
        else:
            second = await _measure(options, off, seconds, yielding)
            first = await _measure(options, on, seconds, yielding)
        pairs.append((first, second))
        for label, side in zip(labels, (first, second), strict=True):
            options.say(
                f"  round {number} {label}: {side.load.line()}, "
                f"{side.cpu_ms_per_request:.3f} ms CPU/request"
            )
    return pairs


def shares(pairs: list[tuple[Round, Round]]) -> tuple[list[float], list[float]]:
    """Per round: on/off req/s in %, and off/on CPU per request in %."""
    rps = [on.load.rps / off.load.rps * 100 if off.load.rps else 0.0 for on, off in pairs]
    cpu = [
        off.cpu_ms_per_request / on.cpu_ms_per_request * 100 if on.cpu_ms_per_request else 0.0
        for on, off in pairs
    ]
    return rps, cpu


def median(values: list[float]) -> float:
    """A share in %, to one decimal."""
    return round(statistics.median(values), 1) if values else 0.0


def cpu_median(values: list[float]) -> float:
    """Milliseconds of CPU per request, to the microsecond."""
    return round(statistics.median(values), 4) if values else 0.0
