"""CPU per request and per chunk (issue 16): what each path costs next to a bare forwarder.

request-cost  32 connections, interleaved rounds: CPU ms per request, req/s, p50 and p99
              for the forwarder, passthrough, passthrough through an alias and each
              translated client/upstream pair the bench upstream speaks
stream-cost   64 concurrent 200-chunk streams: CPU us per chunk (forwarder, passthrough,
              translated both ways) and time to first byte added over the upstream's
cold-start    seconds from spawning the router to its first healthy answer
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench import load
from bench.core import CONNECTIONS
from bench.cpu import CpuMeter
from bench.paired import Load, at_once
from bench.processes import BENCH_ALIAS, BENCH_MODEL, TRANSLATED_MODEL, Child, Processes
from bench.registry import BenchResult, RunOptions, Target, benchmark

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
PROMPT = "Say ok."


def chat_body(model: str, stream: bool = False) -> bytes:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 8,
    }
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


def anthropic_body(model: str, stream: bool = False) -> bytes:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 8,
        "messages": [{"role": "user", "content": PROMPT}],
    }
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


RESPONSES_BODY = json.dumps({"model": BENCH_MODEL, "input": PROMPT, "max_output_tokens": 8})
GEMINI_BODY = json.dumps(
    {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}, separators=(",", ":")
)


@dataclass(frozen=True)
class Case:
    """One request shape sent to one server; ``server`` is "router" or "forwarder"."""

    label: str
    server: str
    path: str
    body: bytes


REQUEST_CASES = [
    Case("forwarder", "forwarder", CHAT, chat_body(BENCH_MODEL)),
    Case("passthrough", "router", CHAT, chat_body(BENCH_MODEL)),
    Case("chat_to_anthropic", "router", CHAT, chat_body(TRANSLATED_MODEL)),
    Case("passthrough_alias", "router", CHAT, chat_body(BENCH_ALIAS)),
    Case("anthropic_passthrough", "router", MESSAGES, anthropic_body(TRANSLATED_MODEL)),
    Case("anthropic_to_chat", "router", MESSAGES, anthropic_body(BENCH_MODEL)),
    Case("responses_to_chat", "router", "/v1/responses", RESPONSES_BODY.encode()),
    Case(
        "gemini_to_chat",
        "router",
        f"/v1beta/models/{BENCH_MODEL}:generateContent",
        GEMINI_BODY.encode(),
    ),
]


def _summary(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = rows[0].keys()
    return {key: round(statistics.median(row[key] for row in rows), 3) for key in keys}


async def _round(tool: str, child: Child, case: Case, seconds: float) -> dict[str, float]:
    with CpuMeter(child.pid) as meter:
        run = await load.run_for(tool, child.url + case.path, CONNECTIONS, seconds, case.body)
    if run.errors:
        raise RuntimeError(f"{case.label}: {run.errors} errors of {run.requests}")
    return {
        "cpu_ms_per_request": round(meter.per_ms(run.requests), 4),
        "rps": run.rps,
        "p50_ms": run.latency_p50_ms or 0.0,
        "p99_ms": run.latency_p99_ms or 0.0,
    }


Rounds = dict[str, list[dict[str, float]]]


def _per_round(rows: Rounds, case: str, baseline: str, key: str) -> list[float]:
    """``case`` over ``baseline`` in each round: the two ran seconds apart, so a change in
    what else the machine runs moves both."""
    return [
        round(mine[key] / theirs[key], 3) if theirs[key] else 0.0
        for mine, theirs in zip(rows[case], rows[baseline], strict=True)
    ]


# Judged CPU ratios: (name, case, baseline case, what, limit). Each round loads the case
# and its baseline at once on two servers (bench/paired.py), so host noise hits both.
JUDGED_CPU = (
    ("passthrough_cpu_vs_forwarder", "passthrough", "forwarder", "passthrough CPU per "
     "request over the bare forwarder's", 1.25),
    ("chat_to_anthropic_cpu_vs_passthrough", "chat_to_anthropic", "passthrough", "Chat "
     "client -> Anthropic upstream CPU per request over passthrough's", 1.3),
)  # fmt: skip


async def _judged_cpu_rounds(
    tool: str, servers: dict[str, Child], rounds: int, seconds: float
) -> dict[str, list[float]]:
    """Per judged ratio, one value per round. A router case and its router baseline run
    on the two routers, swapped every round so neither process's own luck counts; the
    side whose load starts first alternates."""
    cases = {case.label: case for case in REQUEST_CASES}
    found: dict[str, list[float]] = {name: [] for name, *_ in JUDGED_CPU}
    for number in range(rounds):
        mine_on, theirs_on = ("router", "router-b") if number % 2 else ("router-b", "router")
        for name, label, baseline_label, *_ in JUDGED_CPU:
            case, baseline = cases[label], cases[baseline_label]
            theirs_server = theirs_on if baseline.server == "router" else baseline.server
            case_round, baseline_round = await at_once(
                tool,
                Load(servers[mine_on], case.path, case.body),
                Load(servers[theirs_server], baseline.path, baseline.body),
                seconds,
                second_starts=number % 2 == 0,
            )
            found[name].append(
                round(case_round.cpu_ms_per_request / baseline_round.cpu_ms_per_request, 3)
            )
    return found


def _request_targets(judged: dict[str, list[float]], p99: list[float]) -> list[Target]:
    """Judged: the median over rounds of each round's ratio."""
    targets = [
        Target(
            f"request-cost.{name}",
            f"{description} (median of per-round ratios, both loaded at once)",
            round(statistics.median(judged[name]), 3),
            limit,
            "x",
        )
        for name, _, _, description, limit in JUDGED_CPU
    ]
    targets.append(
        Target(
            "request-cost.passthrough_p99_vs_forwarder",
            "passthrough p99 latency over the forwarder's at 32 connections (median of "
            "per-round ratios)",
            round(statistics.median(p99), 3),
            1.5,
            "x",
        )
    )
    return targets


def table_lines(table: dict[str, dict[str, float]]) -> list[str]:
    lines = [f"  {'case':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}"]
    for label, row in table.items():
        lines.append(
            f"  {label:24} {row['rps']:8.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
            f"{row['cpu_ms_per_request']:11.3f}"
        )
    return lines


@benchmark("request-cost", "cost", "CPU per request: forwarder, passthrough, translated pairs")
async def request_cost(options: RunOptions) -> BenchResult:
    """The table: every case runs once per round, cases interleaved, so background load
    hits all of them alike; each number is the median over rounds. The judged CPU ratios
    come from their own rounds, case and baseline loaded at once (JUDGED_CPU)."""
    rounds, seconds = (1, 2.0) if options.quick else (10, 1.0)
    judged_rounds = 2 if options.quick else 20
    tool = options.load_tool
    rows: dict[str, list[dict[str, float]]] = {case.label: [] for case in REQUEST_CASES}
    async with Processes(options.workdir / "request-cost") as processes:
        upstream = await processes.start_upstream()
        servers = {
            "router": await processes.start_router(upstream, log_level="info"),
            "router-b": await processes.start_router(upstream, log_level="info"),
            "forwarder": await processes.start_forwarder(upstream),
        }
        for case in REQUEST_CASES:
            await _round(tool, servers[case.server], case, 1.0)
            if case.server == "router":
                await _round(tool, servers["router-b"], case, 1.0)
        for _ in range(rounds):
            for case in REQUEST_CASES:
                rows[case.label].append(await _round(tool, servers[case.server], case, seconds))
        judged = await _judged_cpu_rounds(tool, servers, judged_rounds, seconds)
    table = {label: _summary(found) for label, found in rows.items()}
    for line in table_lines(table):
        options.say(line)
    for name, values in judged.items():
        options.say(f"  {name}: {values}")
    p99 = _per_round(rows, "passthrough", "forwarder", "p99_ms")
    return BenchResult(
        numbers={
            "rounds": rounds,
            "round_seconds": seconds,
            "cases": table,
            "judged_rounds": judged_rounds,
            "judged_cpu_ratios_per_round": judged,
            "p99_vs_forwarder_per_round": p99,
        },
        targets=_request_targets(judged, p99),
        notes=[
            "CPU is the server process tree's user + system time over the round",
            "table: each round runs the cases back to back on one router, 32 connections",
            "judged CPU ratios: case and baseline loaded at once, 16 connections each, on "
            "two routers swapped every round (or a router and the forwarder)",
        ],
    )


async def _first_bytes(url: str, body: bytes, count: int) -> list[float]:
    """Milliseconds from sending a stream request to its first body byte, one at a time so
    nothing else competes for the cores; each stream is dropped after its first byte (a
    fresh connection per sample, on either path)."""
    found: list[float] = []
    connector = aiohttp.TCPConnector(limit=1)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        for _ in range(count):
            sent = time.monotonic()
            async with session.post(url, data=body) as reply:
                await reply.content.readany()
                found.append((time.monotonic() - sent) * 1000)
                reply.close()
            await asyncio.sleep(0.02)
    return sorted(found)


async def _streams(url: str, body: bytes, streams: int, spread_s: float) -> int:
    """Run ``streams`` concurrent streams to the end; how many failed."""
    failures = 0

    async def one(session: aiohttp.ClientSession, number: int) -> None:
        nonlocal failures
        await asyncio.sleep(spread_s * number / streams)
        try:
            async with session.post(url, data=body) as reply:
                await reply.read()
                if reply.status != 200:
                    failures += 1
        except (aiohttp.ClientError, TimeoutError):
            failures += 1

    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        await asyncio.gather(*(one(session, number) for number in range(streams)))
    return failures


STREAMS = 64
STREAM_CHUNKS = 200
STREAM_INTERVAL = 0.01
FIRST_BYTE_SAMPLES = 30
STREAM_CASES = [
    Case("direct", "upstream", CHAT, chat_body(BENCH_MODEL, stream=True)),
    Case("forwarder", "forwarder", CHAT, chat_body(BENCH_MODEL, stream=True)),
    Case("passthrough", "router", CHAT, chat_body(BENCH_MODEL, stream=True)),
    Case("anthropic_to_chat_client", "router", CHAT, chat_body(TRANSLATED_MODEL, stream=True)),
    Case("chat_to_anthropic_client", "router", MESSAGES, anthropic_body(BENCH_MODEL, stream=True)),
]


async def _stream_round(child: Child, case: Case, chunks: int) -> dict[str, float]:
    url = child.url + case.path
    with CpuMeter(child.pid) as meter:
        failures = await _streams(url, case.body, STREAMS, STREAM_INTERVAL)
    if failures:
        raise RuntimeError(f"{case.label}: {failures} of {STREAMS} streams failed")
    first_bytes = await _first_bytes(url, case.body, FIRST_BYTE_SAMPLES)
    return {
        "cpu_us_per_chunk": round(meter.per_ms(STREAMS * chunks) * 1000, 3),
        "first_byte_p50_ms": round(load.percentile(first_bytes, 50), 3),
        "first_byte_p99_ms": round(load.percentile(first_bytes, 99), 3),
    }


def _stream_targets(table: dict[str, dict[str, float]]) -> list[Target]:
    forwarder, passthrough = table["forwarder"], table["passthrough"]
    translated = table["anthropic_to_chat_client"]
    added_first_byte = passthrough["first_byte_p50_ms"] - table["direct"]["first_byte_p50_ms"]
    return [
        Target(
            "stream-cost.translated_vs_passthrough",
            "Anthropic upstream -> Chat client CPU per chunk over passthrough's",
            round(translated["cpu_us_per_chunk"] / passthrough["cpu_us_per_chunk"], 3),
            1.5,
            "x",
        ),
        Target(
            "stream-cost.passthrough_vs_forwarder",
            "passthrough CPU per chunk over the bare forwarder's",
            round(passthrough["cpu_us_per_chunk"] / forwarder["cpu_us_per_chunk"], 3),
            1.15,
            "x",
        ),
        Target(
            "stream-cost.first_byte_added_p50",
            "time to first byte through the router minus straight from the upstream, p50 "
            "of sequential streams",
            round(added_first_byte, 3),
            2.0,
            "ms",
        ),
    ]


@benchmark("stream-cost", "cost", "CPU per chunk of 64 concurrent streams; first byte added")
async def stream_cost(options: RunOptions) -> BenchResult:
    rounds = 1 if options.quick else 3
    chunks = 50 if options.quick else STREAM_CHUNKS
    rows: dict[str, list[dict[str, float]]] = {case.label: [] for case in STREAM_CASES}
    async with Processes(options.workdir / "stream-cost") as processes:
        upstream = await processes.start_upstream(chunks, STREAM_INTERVAL)
        servers = {
            "upstream": upstream,
            "router": await processes.start_router(upstream, log_level="info"),
            "forwarder": await processes.start_forwarder(upstream),
        }
        for case in STREAM_CASES:
            await _stream_round(servers[case.server], case, chunks)
        for _ in range(rounds):
            for case in STREAM_CASES:
                rows[case.label].append(await _stream_round(servers[case.server], case, chunks))
    table = {label: _summary(found) for label, found in rows.items()}
    options.say(f"  {'case':26} {'CPU us/chunk':>12} {'TTFB p50 ms':>12} {'TTFB p99 ms':>12}")
    for label, row in table.items():
        options.say(
            f"  {label:26} {row['cpu_us_per_chunk']:12.2f} {row['first_byte_p50_ms']:12.2f} "
            f"{row['first_byte_p99_ms']:12.2f}"
        )
    return BenchResult(
        numbers={"streams": STREAMS, "chunks": chunks, "rounds": rounds, "cases": table},
        targets=_stream_targets(table),
        notes=[
            "direct: CPU is the upstream's own; its first byte is the baseline",
            f"streams start spread over one {STREAM_INTERVAL * 1000:g} ms chunk interval",
        ],
    )


@benchmark("cold-start", "cost", "seconds from spawning the router to its first healthy answer")
async def cold_start(options: RunOptions) -> BenchResult:
    runs = 1 if options.quick else 3
    seconds: list[float] = []
    async with Processes(options.workdir / "cold-start") as processes:
        upstream = await processes.start_upstream()
        for _ in range(runs):
            started = time.monotonic()
            router = await processes.start_router(upstream)
            seconds.append(round(time.monotonic() - started, 3))
            router.stop()
            processes.children.remove(router)
    value = statistics.median(seconds)
    options.say(f"  cold start: {value:.2f} s (runs: {seconds})")
    return BenchResult(numbers={"runs_s": seconds, "median_s": value})
