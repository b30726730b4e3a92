"""What a second worker process buys (issue 16).

workers-throughput  passthrough req/s with workers: 2 vs workers: 1 at 32 connections,
                    interleaved rounds, load generator and upstream on the same machine
"""

from __future__ import annotations

import statistics

from bench import load
from bench.core import CHAT_PATH, CONNECTIONS
from bench.cpu import CpuMeter
from bench.processes import Processes
from bench.registry import BenchResult, RunOptions, Target, benchmark

WORKERS = 2


@benchmark("workers-throughput", "cost", "req/s with 2 worker processes vs 1, same run")
async def workers_throughput(options: RunOptions) -> BenchResult:
    rounds, seconds = (1, 2.0) if options.quick else (5, 3.0)
    tool = options.load_tool
    rows: dict[str, list[dict[str, float]]] = {"one": [], "two": []}
    async with Processes(options.workdir / "workers-throughput") as processes:
        upstream = await processes.start_upstream()
        routers = {
            "one": await processes.start_router(upstream, workers=1),
            "two": await processes.start_router(upstream, workers=WORKERS),
        }
        for router in routers.values():
            await load.run_for(tool, router.url + CHAT_PATH, CONNECTIONS, 1.0)
        for number in range(1, rounds + 1):
            for label, router in routers.items():
                with CpuMeter(router.pid) as meter:
                    run = await load.run_for(tool, router.url + CHAT_PATH, CONNECTIONS, seconds)
                rows[label].append(
                    {
                        "rps": run.rps,
                        "p99_ms": run.latency_p99_ms or 0.0,
                        "cpu_ms_per_request": round(meter.per_ms(run.requests), 4),
                    }
                )
                options.say(f"  round {number} workers={label}: {run.line()}")
    ratios = [two["rps"] / one["rps"] for one, two in zip(rows["one"], rows["two"], strict=True)]
    ratio = round(statistics.median(ratios), 3)
    summary = {
        label: {key: statistics.median(row[key] for row in found) for key in found[0]}
        for label, found in rows.items()
    }
    return BenchResult(
        numbers={"workers": WORKERS, "per_round_ratio": ratios, "ratio": ratio, **summary},
        targets=[
            Target(
                "workers-throughput.two_vs_one",
                "passthrough req/s with workers: 2 over workers: 1 (median of round ratios)",
                ratio,
                1.6,
                "x",
                higher_is_better=True,
            )
        ],
        notes=["wrk, the upstream and the router workers share the machine's 2 cores"],
    )
