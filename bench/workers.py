"""What a second worker process buys (issue 16).

workers-throughput  passthrough req/s with workers: 2 vs workers: 1 at 32 connections,
                    alternating rounds, load generator and upstream on the same machine

On two cores, two workers need both, and every request also wakes wrk and the upstream.
At normal priority each wakeup preempts a busy worker and handles one or two requests:
measured through the router, wrk and bench.lean_upstream cost 50-58 us per request
between them, against 17-20 us when wrk hits the upstream directly. The judged run puts
both under SCHED_BATCH (bench.load.yield_cpu), so they run in longer slices and batch
their work, closer to the remote client and upstream a deployment has; the same rounds
at normal priority are reported beside it.
"""

from __future__ import annotations

import statistics

from bench.paired import Round, paired_rounds
from bench.processes import Processes
from bench.registry import BenchResult, RunOptions, Target, benchmark

WORKERS = 2


@benchmark("workers-throughput", "cost", "req/s with 2 worker processes vs 1, same run")
async def workers_throughput(options: RunOptions) -> BenchResult:
    rounds, seconds = (2, 2.0) if options.quick else (16, 1.0)
    summaries: dict[str, dict[str, object]] = {}
    for apparatus, yielding in (("batch", True), ("normal", False)):
        options.say(f"  -- wrk and the upstream at {apparatus} priority")
        async with Processes(options.workdir / f"workers-{apparatus}") as processes:
            upstream = await processes.start_lean_upstream(yielding=yielding)
            two = await processes.start_router(upstream, workers=WORKERS)
            one = await processes.start_router(upstream, workers=1)
            labels = ("workers=2", "workers=1")
            pairs = await paired_rounds(options, two, one, rounds, seconds, labels, yielding)
        summaries[apparatus] = _summary(pairs)
    ratio = float(str(summaries["batch"]["ratio"]))
    options.say(
        f"  two workers / one: {ratio}x (apparatus at normal priority: "
        f"{summaries['normal']['ratio']}x)"
    )
    numbers: dict[str, object] = {"workers": WORKERS, **summaries}
    return BenchResult(
        numbers=numbers,
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
        notes=[
            "wrk, the upstream and the router workers share the machine's 2 cores",
            "judged with wrk and bench.lean_upstream under SCHED_BATCH; numbers.normal has "
            "the same rounds with both at normal priority, preempting the workers",
        ],
    )


def _summary(pairs: list[tuple[Round, Round]]) -> dict[str, object]:
    ratios = [round(a.load.rps / b.load.rps, 3) if b.load.rps else 0.0 for a, b in pairs]
    found: dict[str, object] = {
        "per_round_ratio": ratios,
        "ratio": round(statistics.median(ratios), 3),
    }
    for label, index in (("two", 0), ("one", 1)):
        found[f"{label}_rps"] = statistics.median(p[index].load.rps for p in pairs)
        found[f"{label}_cpu_ms_per_request"] = round(
            statistics.median(p[index].cpu_ms_per_request for p in pairs), 4
        )
    return found
