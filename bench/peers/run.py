"""One interleaved run: start every system, then round after round hit each in turn.

A system that fails to install or start, or whose round fails, keeps its row with the
reason and drops out of later rounds; the others go on. While the run lasts, a sampler
records any non-loopback address a server's process tree talks to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from bench import load
from bench.cpu import CpuMeter
from bench.peers.before import before_systems
from bench.peers.egress import outside_addresses
from bench.peers.launch import PEERS
from bench.peers.systems import BASELINES, Context, System, Target
from bench.peers.table import Row
from bench.processes import Processes

CONNECTIONS = 32
WARMUP_SECONDS = 1.0
SAMPLE_EVERY = 1.0
ALL_SYSTEMS = [*BASELINES, *PEERS]


@dataclass(frozen=True)
class Plan:
    rounds: int
    seconds: float
    tool: str
    only: tuple[str, ...] = ()
    # A git revision whose router is measured beside today's (bench/peers/before.py).
    before: str | None = None

    def systems(self) -> list[System]:
        earlier = before_systems(self.before) if self.before else []
        if not self.only:
            return [*ALL_SYSTEMS, *earlier]
        known = [*ALL_SYSTEMS, *earlier]
        unknown = set(self.only) - {s.key for s in known}
        if unknown:
            raise KeyError(f"unknown systems: {', '.join(sorted(unknown))}")
        return [s for s in known if s.key in self.only]


async def one_round(tool: str, target: Target, seconds: float) -> dict[str, float]:
    """``seconds`` of load on ``target`` at 32 connections, with its tree's CPU time."""
    target.child.check_alive()
    url = target.child.url + target.url_path
    with CpuMeter(target.child.pid) as meter:
        run = await load.run_for(
            tool, url, CONNECTIONS, seconds, target.body, target.headers or None
        )
    if run.errors >= run.requests:
        raise RuntimeError(f"all {run.requests} requests failed")
    return {
        "rps": run.rps,
        "p50_ms": run.latency_p50_ms or 0.0,
        "p99_ms": run.latency_p99_ms or 0.0,
        "cpu_ms_per_request": round(meter.per_ms(run.requests), 4),
        "errors": run.errors,
    }


@contextlib.asynccontextmanager
async def sampling(live: list[tuple[Row, Target]]) -> AsyncIterator[None]:
    """Record outside addresses of every live server every ``SAMPLE_EVERY`` seconds."""

    async def sample() -> None:
        while True:
            for row, target in live:
                row.outside |= await asyncio.to_thread(outside_addresses, target.child.pid)
            await asyncio.sleep(SAMPLE_EVERY)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def start_all(ctx: Context, systems: list[System]) -> list[tuple[Row, Target | None]]:
    started: list[tuple[Row, Target | None]] = []
    for system in systems:
        row = Row(system.key, system.label, system.path)
        ctx.say(f"== {system.label}: starting")
        try:
            target: Target | None = await system.start(ctx)
        except Exception as exc:  # any failure of one peer is its row's note, not the run's
            row.failure = f"{type(exc).__name__}: {exc}"
            ctx.say(f"  not measured: {row.failure}")
            target = None
        started.append((row, target))
    return started


async def _measure_once(row: Row, target: Target, plan: Plan, label: str) -> None:
    try:
        row.rounds.append(await one_round(plan.tool, target, plan.seconds))
    except Exception as exc:  # a peer dying mid-run ends its row only
        row.failure = f"{label}: {type(exc).__name__}: {exc}"


async def measure(live: list[tuple[Row, Target]], plan: Plan, say: Callable[[str], None]) -> None:
    for row, target in live:
        try:
            await one_round(plan.tool, target, WARMUP_SECONDS)
        except Exception as exc:  # as above: the row says why
            row.failure = f"warm-up: {type(exc).__name__}: {exc}"
    for number in range(1, plan.rounds + 1):
        for row, target in live:
            if row.failure:
                continue
            await _measure_once(row, target, plan, f"round {number}")
            if row.failure:
                say(f"  round {number} {row.system}: {row.failure}")
                continue
            last = row.rounds[-1]
            say(
                f"  round {number} {row.system}: {last['rps']:.0f} req/s, "
                f"p99 {last['p99_ms']:.1f} ms, {last['cpu_ms_per_request']:.3f} CPU ms/req"
            )


async def run(plan: Plan, workdir: Path, scratch: Path, say: Callable[[str], None]) -> list[Row]:
    systems = plan.systems()
    async with Processes(workdir) as processes:
        upstream = await processes.start_upstream()
        ctx = Context(processes, upstream, workdir, scratch, say)
        started = await start_all(ctx, systems)
        live = [(row, target) for row, target in started if target is not None]
        async with sampling(live):
            await measure(live, plan, say)
    return [row for row, _ in started]
