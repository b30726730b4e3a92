"""Two routers sharing one upstream, measured in rounds: req/s and, the judged number,
CPU per request (req/s moves with whatever else runs on the machine; the CPU a router
burns per request served moves less).

The share a feature leaves is ``off CPU / on CPU`` per round: the throughput the router
keeps with the feature on when CPU is what limits it. The median over rounds is judged.

Rounds are short and many, and for a CPU share both routers are loaded at once
(``simultaneous_rounds``): on this kind of host (a VM whose speed moves from second to
second) two identical routers measured one after the other differ by ~13% per 1 s pair
(one standard deviation), loaded at the same time by 4-6%, since whatever slows the host
in a second slows both. ``paired_rounds`` alternates instead, for what cannot share the
machine: the throughput of one configuration against another's.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass

from bench import load
from bench.core import CHAT_PATH, CONNECTIONS
from bench.cpu import CpuMeter
from bench.processes import Child, Processes
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
        _say_round(options, number, labels, pairs[-1])
    return pairs


@dataclass(frozen=True)
class Load:
    """What one side of a simultaneous round is sent: a server, a path and a body."""

    child: Child
    path: str = CHAT_PATH
    body: bytes = load.CHAT_BODY


async def at_once(
    tool: str, first: Load, second: Load, seconds: float, second_starts: bool = False
) -> tuple[Round, Round]:
    """Both sides loaded at the same time, half the connections each, CPU per request
    read for each over the same seconds; ``second_starts``: the second side's load is
    started first (callers alternate it so neither side gains by it)."""
    sides = (second, first) if second_starts else (first, second)
    with CpuMeter(first.child.pid) as first_cpu, CpuMeter(second.child.pid) as second_cpu:
        results = await asyncio.gather(
            *(
                load.run_for(tool, side.child.url + side.path, CONNECTIONS // 2, seconds, side.body)
                for side in sides
            )
        )
    first_load, second_load = results[::-1] if second_starts else results
    for side, result in ((first, first_load), (second, second_load)):
        if result.errors:
            raise RuntimeError(f"{side.child.name} {side.path}: {result.errors} errors")
    return (
        Round(first_load, first_cpu.per_ms(first_load.requests)),
        Round(second_load, second_cpu.per_ms(second_load.requests)),
    )


async def simultaneous_rounds(
    options: RunOptions, on: Child, off: Child, rounds: int, seconds: float, labels: tuple[str, str]
) -> list[tuple[Round, Round]]:
    """``rounds`` (on, off) pairs, each round loading both at once with half the
    connections each; whose load starts first alternates."""
    for child in (on, off):
        await load.run_for(options.load_tool, child.url + CHAT_PATH, CONNECTIONS, 1.0)
    pairs: list[tuple[Round, Round]] = []
    for number in range(1, rounds + 1):
        pair = await at_once(options.load_tool, Load(on), Load(off), seconds, number % 2 == 0)
        pairs.append(pair)
        _say_round(options, number, labels, pair)
    return pairs


# Notes every CPU-share benchmark carries.
SHARE_NOTES = (
    "both routers are loaded at once in each round, 16 connections each; they, the "
    "upstream and the load generators share the machine's cores",
    "judged by CPU per request: loaded at once, the two split the cores as the "
    "scheduler decides, so their req/s are context only",
)


async def cpu_share(
    options: RunOptions,
    name: str,
    configs: tuple[str, str],
    keys: tuple[str, str, str],
    labels: tuple[str, str],
) -> tuple[float, dict[str, object]]:
    """The judged share of a feature: two routers on one upstream, ``configs`` (YAML)
    appended to the one with it and the one without, loaded at once for ROUNDS rounds.
    Returns the median share in % and the numbers, named by ``keys``: (with, without,
    share)."""
    rounds = QUICK_ROUNDS if options.quick else ROUNDS
    with_key, without_key, share_key = keys
    async with (
        Processes(options.workdir / f"{name}-on") as on_side,
        Processes(options.workdir / f"{name}-off") as off_side,
    ):
        upstream = await on_side.start_upstream()
        on = await on_side.start_router(upstream, extra_config=configs[0])
        off = await off_side.start_router(upstream, extra_config=configs[1])
        pairs = await simultaneous_rounds(options, on, off, rounds, ROUND_SECONDS, labels)
    per_round = cpu_shares(pairs)
    ratio = median(per_round)
    numbers: dict[str, object] = {
        "load_tool": options.load_tool,
        "connections_per_router": CONNECTIONS // 2,
        "round_seconds": ROUND_SECONDS,
    }
    for key, index in ((with_key, 0), (without_key, 1)):
        numbers[f"{key}_rps_median"] = statistics.median(p[index].load.rps for p in pairs)
        numbers[f"{key}_cpu_ms_per_request_median"] = cpu_median(
            [p[index].cpu_ms_per_request for p in pairs]
        )
    numbers[f"{share_key}_cpu_pct_per_round"] = [round(v, 1) for v in per_round]
    numbers[f"{share_key}_pct"] = ratio
    return ratio, numbers


def _say_round(
    options: RunOptions, number: int, labels: tuple[str, str], pair: tuple[Round, Round]
) -> None:
    for label, side in zip(labels, pair, strict=True):
        options.say(
            f"  round {number} {label}: {side.load.line()}, "
            f"{side.cpu_ms_per_request:.3f} ms CPU/request"
        )


def cpu_shares(pairs: list[tuple[Round, Round]]) -> list[float]:
    """Per round: off/on CPU per request in %. (Loaded at once, the two split the cores as
    the scheduler decides, so their req/s say nothing of what either costs.)"""
    return [
        off.cpu_ms_per_request / on.cpu_ms_per_request * 100 if on.cpu_ms_per_request else 0.0
        for on, off in pairs
    ]


def median(values: list[float]) -> float:
    """A share in %, to one decimal."""
    return round(statistics.median(values), 1) if values else 0.0


def cpu_median(values: list[float]) -> float:
    """Milliseconds of CPU per request, to the microsecond."""
    return round(statistics.median(values), 4) if values else 0.0
