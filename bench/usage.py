"""What metrics and the usage ledger cost (issue 14).

usage-overhead  passthrough req/s with metrics and ledger on vs both off, same run, and
                the ledger's write cost per request (request path and writer thread)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.core import CONNECTIONS
from bench.paired import (
    QUICK_ROUNDS,
    ROUND_SECONDS,
    ROUNDS,
    cpu_median,
    cpu_shares,
    median,
    simultaneous_rounds,
)
from bench.processes import Processes
from bench.registry import BenchResult, RunOptions, Target, benchmark
from router.config.usage import UsageConfig
from router.usage.ledger import GENERATE, Ledger

OFF = "metrics:\n  enabled: false\nusage:\n  enabled: false\n"
LEDGER_ROWS = 20_000


def _row(i: int) -> tuple[object, ...]:
    return (
        time.time(), f"{i:016x}", "alice", "openai-chat", "gpt-4o", "bench", "key1", "gpt-4o",
        0, 200, None, 1200, 300, 200, 0, 0.006, 0.006, 12.5, 9.1, GENERATE,
    )  # fmt: skip


def ledger_write_cost(rows: int) -> dict[str, float]:
    """Microseconds per row: handing it to the queue (the request's share) and the whole
    write through to a committed SQLite batch (the writer thread's share)."""
    with tempfile.TemporaryDirectory() as directory:
        ledger = Ledger(Path(directory) / "usage.sqlite", UsageConfig(queue_size=rows + 1))
        batch = [_row(i) for i in range(rows)]
        started = time.perf_counter()
        for row in batch:
            ledger.add(row)
        queued = time.perf_counter() - started
        ledger.flush(timeout=120)
        total = time.perf_counter() - started
        ledger.close()
        assert ledger.written == rows, f"wrote {ledger.written} of {rows} rows"
    return {
        "rows": rows,
        "enqueue_us_per_row": round(queued / rows * 1e6, 2),
        "committed_us_per_row": round(total / rows * 1e6, 2),
    }


@benchmark("usage-overhead", "usage", "CPU per request, metrics + ledger on vs off; ledger cost")
async def usage_overhead(options: RunOptions) -> BenchResult:
    """Rounds loading two routers sharing one upstream at once, metrics and ledger on in
    one and off in the other; the target is the median of the per-round shares by CPU
    per request (bench/paired.py)."""
    rounds = QUICK_ROUNDS if options.quick else ROUNDS
    seconds = ROUND_SECONDS
    async with (
        Processes(options.workdir / "usage-on") as on_side,
        Processes(options.workdir / "usage-off") as off_side,
    ):
        upstream = await on_side.start_upstream()
        with_usage = await on_side.start_router(upstream)
        without = await off_side.start_router(upstream, extra_config=OFF)
        pairs = await simultaneous_rounds(
            options, with_usage, without, rounds, seconds, ("metrics+ledger on", "off")
        )
    per_round = cpu_shares(pairs)
    ratio = median(per_round)
    cost = ledger_write_cost(LEDGER_ROWS // (4 if options.quick else 1))
    options.say(
        f"  ledger: {cost['enqueue_us_per_row']} us/row on the request path, "
        f"{cost['committed_us_per_row']} us/row committed"
    )
    return BenchResult(
        numbers={
            "load_tool": options.load_tool,
            "connections_per_router": CONNECTIONS // 2,
            "round_seconds": seconds,
            "on_rps_median": statistics.median(on.load.rps for on, _ in pairs),
            "off_rps_median": statistics.median(off.load.rps for _, off in pairs),
            "on_cpu_ms_per_request_median": cpu_median([on.cpu_ms_per_request for on, _ in pairs]),
            "off_cpu_ms_per_request_median": cpu_median(
                [off.cpu_ms_per_request for _, off in pairs]
            ),
            "on_vs_off_cpu_pct_per_round": [round(v, 1) for v in per_round],
            "on_vs_off_pct": ratio,
            "ledger": cost,
        },
        targets=[
            Target(
                "usage-overhead.on_vs_off",
                "passthrough throughput with metrics and ledger on, as a share of both off "
                "(off CPU per request / on CPU per request)",
                ratio,
                90.0,
                "%",
                higher_is_better=True,
            )
        ],
        notes=[
            "both routers are loaded at once in each round, 16 connections each; they, the "
            "upstream and the load generators share the machine's cores",
            "judged by CPU per request: loaded at once, the two split the cores as the "
            "scheduler decides, so their req/s are context only",
        ],
    )
