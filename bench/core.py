"""The measurements of the router core issue, each against real processes (stream-latency,
the fourth, is bench/stream_latency.py).

throughput      non-streaming, 32 connections: router req/s vs the minimal forwarder's
idle-memory     router RSS after startup and one request
soak            requests plus abandoned streams: memory, fds and upstream connections after
"""

from __future__ import annotations

import asyncio
import statistics

import aiohttp

from bench import load
from bench.load import CHAT_BODY
from bench.probe import holdings, settle
from bench.processes import Child, Processes
from bench.registry import BenchResult, RunOptions, Target, benchmark
from bench.streams import abandon_streams

CONNECTIONS = 32
CHAT_PATH = "/v1/chat/completions"

# Upstream streams: 500 chunks 10 ms apart (100 tokens/s, a fast model).
STREAM_CHUNKS = 500
STREAM_INTERVAL = 0.01


async def one_request(child: Child) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            child.url + CHAT_PATH, data=CHAT_BODY, headers={"Content-Type": "application/json"}
        ) as reply,
    ):
        await reply.read()
        if reply.status != 200:
            raise RuntimeError(f"{child.name} answered {reply.status} to a warm-up request")


@benchmark("throughput", "core", "non-streaming req/s at 32 connections: router vs forwarder")
async def throughput(options: RunOptions) -> BenchResult:
    """Alternating router and forwarder rounds; the target is the median of the per-round
    ratios, so a burst of background load on the shared machine skews one pair only."""
    rounds, seconds = (1, 2.0) if options.quick else (5, 3.0)
    tool = options.load_tool
    async with Processes(options.workdir / "throughput") as processes:
        upstream = await processes.start_upstream()
        router = await processes.start_router(upstream)
        forwarder = await processes.start_forwarder(upstream)
        for child in (router, forwarder):
            await load.run_for(tool, child.url + CHAT_PATH, CONNECTIONS, 1.0)
        direct = await load.run_for(tool, upstream.url + CHAT_PATH, CONNECTIONS, seconds)
        options.say(f"  upstream alone: {direct.line()}")
        pairs: list[tuple[load.LoadResult, load.LoadResult]] = []
        for number in range(1, rounds + 1):
            routed = await load.run_for(tool, router.url + CHAT_PATH, CONNECTIONS, seconds)
            baseline = await load.run_for(tool, forwarder.url + CHAT_PATH, CONNECTIONS, seconds)
            pairs.append((routed, baseline))
            options.say(f"  round {number} router: {routed.line()}")
            options.say(f"  round {number} forwarder: {baseline.line()}")
    ratios = [r.rps / f.rps * 100 if f.rps else 0.0 for r, f in pairs]
    ratio = round(statistics.median(ratios), 1)
    result = BenchResult(
        numbers={
            "load_tool": tool,
            "connections": CONNECTIONS,
            "round_seconds": seconds,
            "upstream_direct": direct.as_dict(),
            "router_rps_median": statistics.median(r.rps for r, _ in pairs),
            "forwarder_rps_median": statistics.median(f.rps for _, f in pairs),
            "router_vs_forwarder_pct_per_round": [round(v, 1) for v in ratios],
            "router_vs_forwarder_pct": ratio,
            "router_rounds": [r.as_dict() for r, _ in pairs],
            "forwarder_rounds": [f.as_dict() for _, f in pairs],
        },
        notes=["router, forwarder, upstream and the load generator share the machine's cores"],
    )
    result.targets.append(
        Target(
            "throughput.router_vs_forwarder",
            "router req/s as a share of the minimal forwarder's (median of per-round ratios)",
            ratio,
            60.0,
            "%",
            higher_is_better=True,
        )
    )
    return result


@benchmark("idle-memory", "core", "router RSS after startup and one request")
async def idle_memory(options: RunOptions) -> BenchResult:
    async with Processes(options.workdir / "idle-memory") as processes:
        upstream = await processes.start_upstream()
        router = await processes.start_router(upstream)
        await one_request(router)
        await asyncio.sleep(0.5)
        idle = await holdings(router, upstream.port)
    options.say(f"  idle: {idle.rss_mb:.1f} MB RSS, {idle.fds} fds")
    return BenchResult(
        numbers={"idle": idle.as_dict()},
        targets=[
            Target(
                "idle-memory.rss", "router RSS at idle, after one request", idle.rss_mb, 60.0, "MB"
            )
        ],
    )


@benchmark("soak", "core", "20,000 requests + 2,000 abandoned streams: nothing left behind")
async def soak(options: RunOptions) -> BenchResult:
    requests, streams = (4_000, 400) if options.quick else (20_000, 2_000)
    settle_limit = 5.0
    async with Processes(options.workdir / "soak") as processes:
        upstream = await processes.start_upstream(STREAM_CHUNKS, STREAM_INTERVAL)
        router = await processes.start_router(upstream)
        chat_url = router.url + CHAT_PATH
        await one_request(router)
        await asyncio.sleep(0.5)
        after_warmup = await holdings(router, upstream.port)
        options.say(f"  after one request: {after_warmup}")
        # Fill the connection pool as the soak will, so idle counts include a warm pool.
        await load.run_count(chat_url, CONNECTIONS, 1_000)
        await abandon_streams(router.port, CONNECTIONS, CONNECTIONS)
        idle, _ = await settle(router, upstream.port, after_warmup, 1.0)
        options.say(f"  idle with a warm pool: {idle}")
        run = await load.run_count(chat_url, CONNECTIONS, requests)
        options.say(f"  {requests} requests: {run.line()}")
        gone = await abandon_streams(router.port, streams, CONNECTIONS)
        options.say(f"  {streams} abandoned streams: {gone.opened} opened, {gone.failed} failed")
        after, settled_in = await settle(router, upstream.port, idle, settle_limit)
        options.say(
            f"  after: {after}, settled in "
            + (f"{settled_in:.2f} s" if settled_in is not None else f"more than {settle_limit} s")
        )
    growth = round(after.rss_mb - after_warmup.rss_mb, 2)
    result = BenchResult(
        numbers={
            "requests": run.as_dict(),
            "abandoned_streams": {"total": streams, "opened": gone.opened, "failed": gone.failed},
            "after_one_request": after_warmup.as_dict(),
            "idle_warm_pool": idle.as_dict(),
            "after_soak": after.as_dict(),
            "rss_growth_mb": growth,
            "settled_in_s": settled_in,
        },
        notes=[
            "idle fds/sockets are counted after 1,000 requests at the same concurrency, "
            "so the keep-alive pool to the upstream is warm in both readings",
            "abandoned streams alternate FIN and RST closes",
        ],
    )
    result.targets += [
        Target("soak.rss_growth", "RSS growth since one request", growth, 15.0, "MB"),
        Target(
            "soak.fds_over_idle",
            f"open fds above idle, {settle_limit:g} s after the last client left",
            after.fds - idle.fds,
            0,
            "fds",
        ),
        Target(
            "soak.upstream_connections_over_idle",
            "health upstream_connections above idle after the settle wait",
            after.upstream_connections - idle.upstream_connections,
            0,
            "replies",
        ),
        Target(
            "soak.upstream_sockets_over_idle",
            "router TCP sockets to the upstream port above idle after the settle wait",
            after.upstream_sockets - idle.upstream_sockets,
            0,
            "sockets",
        ),
    ]
    if run.errors or gone.failed:
        result.notes.append(f"errors: {run.errors} requests, {gone.failed} streams")
    return result
