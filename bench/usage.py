"""What metrics and the usage ledger cost (issue 14).

usage-overhead  passthrough req/s with metrics and ledger on vs both off, same run, and
                the ledger's write cost per request (request path and writer thread)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.paired import SHARE_NOTES, cpu_share
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
    ratio, numbers = await cpu_share(
        options, "usage", ("", OFF), ("on", "off", "on_vs_off"), ("metrics+ledger on", "off")
    )
    cost = ledger_write_cost(LEDGER_ROWS // (4 if options.quick else 1))
    options.say(
        f"  ledger: {cost['enqueue_us_per_row']} us/row on the request path, "
        f"{cost['committed_us_per_row']} us/row committed"
    )
    return BenchResult(
        numbers={**numbers, "ledger": cost},
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
        notes=[*SHARE_NOTES],
    )
