"""What a second worker process buys (issue 16).

workers-throughput  passthrough req/s with workers: 2 vs workers: 1 at 32 connections,
                    alternating rounds, load generator and upstream on the same machine

On two cores, two workers need both: the judged run uses bench.lean_upstream (a bare
asyncio protocol) so the upstream takes as little CPU as a remote one would; the same
rounds against the aiohttp bench upstream are reported beside it.
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
    for upstream_kind in ("lean", "aiohttp"):
        options.say(f"  -- {upstream_kind} upstream")
        async with Processes(options.workdir / f"workers-{upstream_kind}") as processes:
            if upstream_kind == "lean":
                upstream = await processes.start_lean_upstream()
            else:
                upstream = await processes.start_upstream()
            two = await processes.start_router(upstream, workers=WORKERS)
            one = await processes.start_router(upstream, workers=1)
            labels = ("workers=2", "workers=1")
            pairs = await paired_rounds(options, two, one, rounds, seconds, labels)
        summaries[upstream_kind] = _summary(pairs)
    ratio = float(str(summaries["lean"]["ratio"]))
    options.say(
        f"  two workers / one: {ratio}x (aiohttp upstream: {summaries['aiohttp']['ratio']}x)"
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
            "judged against bench.lean_upstream; numbers.aiohttp has the same rounds against "
            "the aiohttp bench upstream, whose own CPU takes part of the second core",
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
