"""The delay the router adds to each chunk of a stream (issue 16's floor).

stream-latency  64 streams of 500 chunks 10 ms apart: per-chunk delay through the router
                minus straight from the upstream, at p99

Judged with the lean apparatus: bench.lean_upstream writes each chunk from a timer and
the client reads each stream with a bare protocol (bench.streams.measure_streams_lean).
On two cores the aiohttp upstream and client are themselves most of what a p99 sees
(straight from that upstream, p50 alone is 1-2 ms, and a bare aiohttp forwarder adds
about what the router does), so the same rounds with them are reported beside the
judged ones (numbers.aiohttp), not judged.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable

from bench import load
from bench.processes import Child, Processes
from bench.registry import BenchResult, RunOptions, Target, benchmark
from bench.streams import StreamDelays, measure_streams, measure_streams_lean

CHAT_PATH = "/v1/chat/completions"
STREAMS = 64
CHUNKS, CHUNKS_QUICK = 500, 100
INTERVAL = 0.01
LABELS = ("direct", "router", "forwarder")

Measure = Callable[[str, int, float], Awaitable[StreamDelays]]
Row = dict[str, dict[str, float]]


def _delays(measured: StreamDelays, chunks: int) -> dict[str, float]:
    ordered = sorted(measured.delays_ms)
    if not ordered:
        raise RuntimeError("no chunk arrived")
    return {
        "p50_ms": round(load.percentile(ordered, 50), 3),
        "p99_ms": round(load.percentile(ordered, 99), 3),
        "max_ms": round(ordered[-1], 3),
        "complete_streams": sum(1 for n in measured.chunks_per_stream if n == chunks),
        "failed_streams": measured.failures,
        "wall_s": round(measured.wall_s, 2),
    }


def _line(label: str, numbers: dict[str, float]) -> str:
    return (
        f"{label}: p50 {numbers['p50_ms']} ms, p99 {numbers['p99_ms']} ms, "
        f"max {numbers['max_ms']} ms, {numbers['complete_streams']}/{STREAMS} "
        f"streams complete in {numbers['wall_s']} s"
    )


async def _apparatus(
    options: RunOptions, lean: bool, chunks: int, rounds: int
) -> tuple[list[Row], Row]:
    """``rounds`` rounds of direct, router and forwarder back to back, streams spread
    over one interval; then one burst round (all streams in phase), direct and router."""
    kind = "lean" if lean else "aiohttp"
    measure: Measure = measure_streams_lean if lean else measure_streams
    async with Processes(options.workdir / f"stream-latency-{kind}") as processes:
        if lean:
            upstream = await processes.start_lean_upstream(chunks, INTERVAL)
        else:
            upstream = await processes.start_upstream(chunks, INTERVAL)
        children: dict[str, Child] = {
            "direct": upstream,
            "router": await processes.start_router(upstream),
            "forwarder": await processes.start_forwarder(upstream),
        }
        await measure(children["router"].url + CHAT_PATH, 4, INTERVAL)
        rows: list[Row] = []
        for number in range(1, rounds + 1):
            row: Row = {}
            for label in LABELS:
                measured = await measure(children[label].url + CHAT_PATH, STREAMS, INTERVAL)
                row[label] = _delays(measured, chunks)
                options.say(f"  {kind} round {number} spread {_line(label, row[label])}")
            rows.append(row)
        burst: Row = {}
        if lean:
            for label in ("direct", "router"):
                measured = await measure(children[label].url + CHAT_PATH, STREAMS, 0.0)
                burst[label] = _delays(measured, chunks)
                options.say(f"  {kind} burst {_line(label, burst[label])}")
    return rows, burst


def _added(rows: list[Row], label: str) -> list[float]:
    return [round(row[label]["p99_ms"] - row["direct"]["p99_ms"], 3) for row in rows]


def _summary(rows: list[Row]) -> dict[str, object]:
    router, forwarder = _added(rows, "router"), _added(rows, "forwarder")
    found: dict[str, object] = {
        "rounds": rows,
        "router_added_p99_ms_per_round": router,
        "router_added_p99_ms": round(statistics.median(router), 3),
        "forwarder_added_p99_ms_per_round": forwarder,
        "forwarder_added_p99_ms": round(statistics.median(forwarder), 3),
    }
    for label in LABELS:
        for key in ("p50_ms", "p99_ms"):
            found[f"{label}_{key}"] = statistics.median(row[label][key] for row in rows)
    return found


@benchmark("stream-latency", "core", "64 x 500-chunk streams: added per-chunk delay at p99")
async def stream_latency(options: RunOptions) -> BenchResult:
    """Target: the 64 streams start spread evenly over one chunk interval, as independent
    clients would, so chunks reach the router one at a time; the median over rounds of
    router p99 minus direct p99 of the same round. Burst (reported): all 64 in phase, so
    every 10 ms the router gets 64 chunks at once and the last waits for the 63 before."""
    chunks = CHUNKS_QUICK if options.quick else CHUNKS
    lean_rows, burst = await _apparatus(options, True, chunks, 1 if options.quick else 7)
    aiohttp_rows, _ = await _apparatus(options, False, chunks, 1)
    lean = _summary(lean_rows)
    value = float(str(lean["router_added_p99_ms"]))
    numbers: dict[str, object] = {
        "streams": STREAMS,
        "chunks_per_stream": chunks,
        "chunk_interval_ms": INTERVAL * 1000,
        **lean,
        "burst": burst,
        "burst_router_added_p99_ms": round(
            burst["router"]["p99_ms"] - burst["direct"]["p99_ms"], 3
        ),
        "aiohttp": _summary(aiohttp_rows),
    }
    notes = [
        "judged with bench.lean_upstream and a bare-protocol client; numbers.aiohttp has "
        "rounds with the aiohttp bench upstream and client, whose own delay dominates there",
        "forwarder numbers are context: what one bare aiohttp hop adds",
        "burst: all streams in phase; added delay there is about 64 x the router's "
        "per-chunk CPU cost",
    ]
    notes += [
        f"{label}: {row[label]['failed_streams']} failed"
        for row in [*lean_rows, *aiohttp_rows, burst]
        for label in row
        if row[label]["complete_streams"] != STREAMS
    ]
    return BenchResult(
        numbers=numbers,
        targets=[
            Target(
                "stream-latency.added_p99",
                "router p99 per-chunk delay minus direct p99 (streams spread over one "
                "interval, lean apparatus, median of rounds)",
                value,
                1.0,
                "ms",
            )
        ],
        notes=notes,
    )
