"""Non-streaming HTTP load: wrk when installed, else an aiohttp load generator.

Both keep ``connections`` keep-alive connections busy with the same POST, either for a
duration (``run_for``); ``run_count`` (until ``total`` answers arrived) is always the
Python generator, because wrk only stops after its full duration.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

WRK = "/usr/bin/wrk"
WRK_THREADS = 1
COUNT_CAP_S = 300

CHAT_BODY = json.dumps(
    {
        "model": "bench-model",
        "messages": [{"role": "user", "content": "Say ok."}],
        "max_tokens": 8,
    }
).encode()


@dataclass
class LoadResult:
    tool: str
    requests: int
    errors: int
    duration_s: float
    rps: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        latency = ""
        if self.latency_p50_ms is not None and self.latency_p99_ms is not None:
            latency = f", latency p50 {self.latency_p50_ms:.2f} ms p99 {self.latency_p99_ms:.2f} ms"
        return (
            f"{self.rps:.0f} req/s ({self.requests} requests in {self.duration_s:.1f} s, "
            f"{self.errors} errors{latency}, {self.tool})"
        )


def pick_tool(requested: str) -> str:
    """``wrk`` or ``python``; ``auto`` is wrk when the binary is there."""
    if requested == "auto":
        return "wrk" if shutil.which(WRK) else "python"
    if requested == "wrk" and not shutil.which(WRK):
        raise RuntimeError(f"{WRK} is not installed (apt-get install wrk), use --load python")
    return requested


async def run_for(
    tool: str,
    url: str,
    connections: int,
    seconds: float,
    body: bytes = CHAT_BODY,
    headers: dict[str, str] | None = None,
    yielding: bool = False,
) -> LoadResult:
    """``headers`` are sent besides Content-Type (a peer's API key, say); ``yielding``
    runs wrk under SCHED_BATCH (see ``yield_cpu``)."""
    if tool == "wrk":
        return await _wrk(url, body, connections, seconds, headers or {}, yielding)
    return await _python(url, body, connections, seconds=seconds, total=None, extra=headers)


async def run_count(url: str, connections: int, total: int, body: bytes = CHAT_BODY) -> LoadResult:
    """Always the Python generator: wrk can only run for a fixed duration."""
    return await _python(url, body, connections, seconds=COUNT_CAP_S, total=total)


def _wrk_script(body: bytes, headers: dict[str, str]) -> str:
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {json.dumps(body.decode())}",
        'wrk.headers["Content-Type"] = "application/json"',
    ]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    lines += [
        "function done(summary, latency, requests)",
        "  local e = summary.errors",
        "  io.write(string.format('BENCH_RESULT %d %d %d %d %d\\n', summary.requests,",
        "    summary.duration, e.connect + e.read + e.write + e.timeout + e.status,",
        "    latency:percentile(50), latency:percentile(99)))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def yield_cpu() -> None:
    """Put the calling process under SCHED_BATCH: it no longer preempts a busy process
    when it wakes, so it runs in longer slices and handles what arrived in batches, as a
    load generator or upstream on another machine takes none of the measured cores."""
    os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


async def _wrk(
    url: str,
    body: bytes,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    yielding: bool = False,
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(_wrk_script(body, headers))
        process = await asyncio.create_subprocess_exec(
            WRK,
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=yield_cpu if yielding else None,
        )
        try:
            output, _ = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = output.decode(errors="replace")
    marker = next((ln for ln in text.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if process.returncode != 0 or marker is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{text}")
    requests, duration_us, errors, p50_us, p99_us = (int(v) for v in marker.split()[1:])
    duration = duration_us / 1e6
    return LoadResult(
        tool="wrk",
        requests=requests,
        errors=errors,
        duration_s=round(duration, 3),
        rps=round(requests / duration, 1),
        latency_p50_ms=p50_us / 1000,
        latency_p99_ms=p99_us / 1000,
    )


async def _python(
    url: str,
    body: bytes,
    connections: int,
    *,
    seconds: float,
    total: int | None,
    extra: dict[str, str] | None = None,
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    started = time.monotonic()
    deadline = started + seconds
    headers = {"Content-Type": "application/json", **(extra or {})}

    sent_count = 0

    def more() -> bool:
        if total is not None and sent_count >= total:
            return False
        return time.monotonic() < deadline

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors, sent_count
        while more():
            sent_count += 1
            sent = time.monotonic()
            try:
                async with session.post(url, data=body, headers=headers) as reply:
                    await reply.read()
                    ok = reply.status < 400
            except aiohttp.ClientError:
                ok = False
            if ok:
                latencies.append(time.monotonic() - sent)
            else:
                errors += 1

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    duration = time.monotonic() - started
    latencies.sort()
    answered = len(latencies) + errors
    return LoadResult(
        tool="python",
        requests=answered,
        errors=errors,
        duration_s=round(duration, 3),
        rps=round(answered / duration, 1),
        latency_p50_ms=round(percentile(latencies, 50) * 1000, 3) if latencies else None,
        latency_p99_ms=round(percentile(latencies, 99) * 1000, 3) if latencies else None,
    )


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        raise ValueError("percentile of nothing")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
