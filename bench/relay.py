"""The AI Studio relay's measurements, against real processes on 127.0.0.1.

relay-peer     router -> /v1/ws -> a protocol-level peer (a plain `websockets` client in
               the bench process, as the Build applet would be) -> fake origin
relay-browser  router -> /v1/ws -> AI Studio service -> fetch in a Chromium page -> fake
               origin (needs /usr/bin/chromium)

Both measure the latency a Gemini ``generateContent`` gains through the relay, against
calling the same fake origin (testkit/fake_aistudio.py, answering at once) directly
in the same run, requests alternating one by one; and a 1,000-chunk
``streamGenerateContent`` that must arrive complete and in order. relay-browser also
reads the service process's own RSS: Chromium and the Playwright driver are its children
and are not counted.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psutil

from bench.load import percentile
from bench.processes import PYTHON, START_TIMEOUT, Child, Processes, free_port, health
from bench.processes import wait_healthy as wait_router_healthy
from bench.registry import BenchResult, RunOptions, Target, benchmark
from testkit.fake_aistudio import COOKIE, GOOD_SESSION
from testkit.relay_peer import RelayPeer, Send

CHROMIUM = "/usr/bin/chromium"
RELAY_KEY = "bench-relay"
SESSION = "bench"
MODEL = "gemini-2.5-flash"
STREAM_CHUNKS = 1000
# Between the origin's stream events, so they reach the relay one by one rather than
# coalesced into a few network reads.
STREAM_INTERVAL = 0.001
GENERATE = "generateContent"
STREAM = "streamGenerateContent?alt=sse"
REQUEST_BODY = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
JSON_HEADERS = {"Content-Type": "application/json"}
ORIGIN_HEADERS = {**JSON_HEADERS, "Cookie": f"{COOKIE}={GOOD_SESSION}"}
MB = 1024 * 1024

ADDED_P50_LIMIT_MS = 20.0
SERVICE_RSS_LIMIT_MB = 80.0


@dataclass
class RelayStack:
    """A fake origin and a router whose relay has one connected session."""

    origin: Child
    router: Child
    service: Child | None = None

    def direct_url(self, method: str) -> str:
        return f"{self.origin.url}/v1beta/models/{MODEL}:{method}"

    def relayed_url(self, method: str) -> str:
        return f"{self.router.url}/v1beta/models/{MODEL}-aistudio:{method}"


def config_text(workdir: Path, origin: Child, router_port: int, service: bool) -> str:
    """One config for the router and, when ``service``, the AI Studio service."""
    return (
        "host: 127.0.0.1\n"
        f"port: {router_port}\n"
        "log-level: info\n"
        f"auth-dir: {workdir / 'auth'}\n"
        "aistudio:\n"
        f"  enabled: {'true' if service else 'false'}\n"
        f"  relay-url: ws://127.0.0.1:{router_port}/v1/ws\n"
        f"  relay-key: {RELAY_KEY}\n"
        f"  session-name: {SESSION}\n"
        f"  control-port: {free_port()}\n"
        f"  chromium-path: {CHROMIUM}\n"
        f"  origin: {origin.url}/\n"
        f"  api-base: {origin.url}\n"
        f"  diagnostics-dir: {workdir / 'diagnostics'}\n"
    )


def write_signed_in_storage(auth_dir: Path) -> None:
    """The fake origin's session cookie, saved as the service's login."""
    cookie = {
        "name": COOKIE,
        "value": GOOD_SESSION,
        "domain": "127.0.0.1",
        "path": "/",
        "expires": -1,
        "httpOnly": True,
        "secure": False,
        "sameSite": "Lax",
    }
    auth_dir.mkdir(parents=True, exist_ok=True)
    path = auth_dir / "aistudio-storage.json"
    path.write_text(json.dumps({"cookies": [cookie], "origins": []}))
    path.chmod(0o600)


async def wait_for_session(router: Child, service: Child | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for child in (router, service):
            if child is not None:
                child.check_alive()
        if (await health(router))["services"]["aistudio"]["sessions_connected"]:
            return
        await asyncio.sleep(0.1)
    tail = service.log_tail() if service is not None else router.log_tail()
    raise RuntimeError(f"no relay session connected within {START_TIMEOUT:g} s:\n{tail}")


@asynccontextmanager
async def relay_stack(
    processes: Processes, with_service: bool
) -> AsyncIterator[tuple[RelayStack, str]]:
    """Fake origin and router (and the service when ``with_service``); yields the stack
    and the relay URL a peer connects to."""
    origin = processes._spawn(
        "origin",
        [
            PYTHON,
            "-m",
            "testkit.fake_aistudio",
            "--chunks",
            str(STREAM_CHUNKS),
            "--interval",
            str(STREAM_INTERVAL),
        ],
    )
    await processes._read_port(origin)
    port = free_port()
    config = processes.workdir / "config.yaml"
    config.write_text(config_text(processes.workdir, origin, port, with_service))
    router = processes._spawn(
        "router", [PYTHON, "-m", "router", "--config", str(config)], port_on_stdout=False
    )
    router.port = port
    router.health_key = RELAY_KEY
    await wait_router_healthy(router)
    stack = RelayStack(origin, router)
    if with_service:
        write_signed_in_storage(processes.workdir / "auth")
        stack.service = processes._spawn(
            "aistudio",
            [PYTHON, "-m", "providers.aistudio", "--config", str(config)],
            port_on_stdout=False,
        )
        await wait_for_session(router, stack.service)
    yield stack, f"ws://127.0.0.1:{port}/v1/ws?name={SESSION}&auth_token={RELAY_KEY}"


class ForwardingPeer:
    """A relay peer doing what the service's page does: fetch from the origin, send back
    the head, each SSE event in a frame of its own as it arrives, and the end."""

    def __init__(self, http: aiohttp.ClientSession, origin: str) -> None:
        self._http = http
        self._origin = origin
        self.chunk_frames = 0

    async def handle(self, frame_id: str, payload: dict[str, Any], send: Send) -> None:
        target = urlsplit(payload["url"])
        url = f"{self._origin}{target.path}" + (f"?{target.query}" if target.query else "")
        async with self._http.request(
            payload["method"], url, data=payload["body"], headers=ORIGIN_HEADERS
        ) as reply:
            head = {
                "status": reply.status,
                "headers": {"Content-Type": [reply.headers.get("Content-Type", "")]},
            }
            if "alt=sse" not in url:
                await send(frame_id, "http_response", {**head, "body": await reply.text()})
                return
            await send(frame_id, "stream_start", head)
            decoder = codecs.getincrementaldecoder("utf-8")()
            pending = ""
            async for data in reply.content.iter_any():
                pending += decoder.decode(data)
                *events, pending = pending.split("\r\n\r\n")
                for event in events:
                    await send(frame_id, "stream_chunk", {"data": event + "\r\n\r\n"})
                    self.chunk_frames += 1
            if pending:
                await send(frame_id, "stream_chunk", {"data": pending})
            await send(frame_id, "stream_end", {})


async def latencies(
    http: aiohttp.ClientSession, stack: RelayStack, rounds: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Milliseconds per request, direct and relayed, alternating one request at a time."""

    async def timed(url: str, headers: dict[str, str]) -> float:
        started = time.perf_counter()
        async with http.post(url, data=REQUEST_BODY, headers=headers) as reply:
            body = await reply.read()
        if reply.status != 200:
            raise RuntimeError(f"{url} answered {reply.status}: {body[:200]!r}")
        return (time.perf_counter() - started) * 1000

    direct_url, relayed_url = stack.direct_url(GENERATE), stack.relayed_url(GENERATE)
    for _ in range(warmup):
        await timed(direct_url, ORIGIN_HEADERS)
        await timed(relayed_url, JSON_HEADERS)
    direct: list[float] = []
    relayed: list[float] = []
    for _ in range(rounds):
        direct.append(await timed(direct_url, ORIGIN_HEADERS))
        relayed.append(await timed(relayed_url, JSON_HEADERS))
    return direct, relayed


@dataclass
class StreamCheck:
    events: int
    in_order: int
    seconds: float

    @property
    def complete(self) -> bool:
        return self.events == self.in_order == STREAM_CHUNKS

    def line(self) -> str:
        verdict = "PASS" if self.complete else "FAIL"
        return (
            f"{verdict}: {self.in_order}/{STREAM_CHUNKS} chunks in order "
            f"({self.events} received) in {self.seconds * 1000:.1f} ms"
        )


def event_texts(body: str) -> list[str]:
    """The text of every SSE event that carries text, in arrival order."""
    texts = []
    for line in body.splitlines():
        if not line.startswith("data: "):
            continue
        event = json.loads(line[len("data: ") :])
        for candidate in event.get("candidates") or []:
            parts = (candidate.get("content") or {}).get("parts") or []
            text = "".join(part.get("text", "") for part in parts)
            if text:
                texts.append(text)
    return texts


async def check_stream(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> StreamCheck:
    started = time.perf_counter()
    async with http.post(url, data=REQUEST_BODY, headers=headers) as reply:
        body = (await reply.read()).decode()
    seconds = time.perf_counter() - started
    if reply.status != 200:
        raise RuntimeError(f"{url} answered {reply.status}: {body[:200]}")
    texts = event_texts(body)
    in_order = 0
    for number, text in enumerate(texts):
        if text != f"part {number}":
            break
        in_order += 1
    return StreamCheck(events=len(texts), in_order=in_order, seconds=seconds)


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(percentile(ordered, 50), 3),
        "p99_ms": round(percentile(ordered, 99), 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


async def measure(
    options: RunOptions, stack: RelayStack, name: str, path: str
) -> tuple[dict[str, Any], list[Target]]:
    """Latency and the 1,000-chunk stream through ``stack``; ``path`` names the hops."""
    rounds, warmup = (60, 10) if options.quick else (300, 20)
    async with aiohttp.ClientSession() as http:
        direct, relayed = await latencies(http, stack, rounds, warmup)
        direct_stream = await check_stream(http, stack.direct_url(STREAM), ORIGIN_HEADERS)
        relayed_stream = await check_stream(http, stack.relayed_url(STREAM), JSON_HEADERS)
    numbers: dict[str, Any] = {
        "requests": rounds,
        "direct": _summary(direct),
        "relayed": _summary(relayed),
    }
    added_p50 = round(numbers["relayed"]["p50_ms"] - numbers["direct"]["p50_ms"], 3)
    added_p99 = round(numbers["relayed"]["p99_ms"] - numbers["direct"]["p99_ms"], 3)
    numbers |= {
        "added_p50_ms": added_p50,
        "added_p99_ms": added_p99,
        "stream_direct": {**vars(direct_stream), "complete": direct_stream.complete},
        "stream_relayed": {**vars(relayed_stream), "complete": relayed_stream.complete},
    }
    for label in ("direct", "relayed"):
        row = numbers[label]
        options.say(
            f"  {label:8} {rounds} requests: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms"
        )
    options.say(f"  added by the relay: p50 {added_p50} ms, p99 {added_p99} ms")
    options.say(f"  stream direct:  {direct_stream.line()}")
    options.say(f"  stream relayed: {relayed_stream.line()}")
    targets = [
        Target(
            f"{name}.added_p50",
            f"generateContent p50 through {path} minus direct p50",
            added_p50,
            ADDED_P50_LIMIT_MS,
            "ms",
        ),
        Target(
            f"{name}.stream_in_order",
            f"chunks of a {STREAM_CHUNKS}-chunk stream through {path} arriving complete "
            "and in order",
            relayed_stream.in_order if relayed_stream.complete else 0,
            STREAM_CHUNKS,
            "chunks",
            higher_is_better=True,
        ),
    ]
    return numbers, targets


@benchmark("relay-peer", "relay", "relay to a websockets peer: added latency, 1,000-chunk stream")
async def relay_peer(options: RunOptions) -> BenchResult:
    async with (
        Processes(options.workdir / "relay-peer") as processes,
        relay_stack(processes, with_service=False) as (stack, ws_url),
        aiohttp.ClientSession() as origin_http,
    ):
        peer = ForwardingPeer(origin_http, stack.origin.url)
        async with RelayPeer(ws_url, peer.handle):
            await wait_for_session(stack.router, None)
            numbers, targets = await measure(
                options, stack, "relay-peer", "router -> websockets peer -> origin"
            )
    numbers["stream_chunk_frames_sent"] = peer.chunk_frames
    options.say(f"  the peer sent {peer.chunk_frames} stream_chunk frames in all")
    return BenchResult(
        numbers=numbers,
        targets=targets,
        notes=[
            "the peer runs in the bench process, beside the client that measures",
            f"origin stream events {STREAM_INTERVAL * 1000:g} ms apart, one relay frame each",
        ],
    )


def chromium_installed() -> bool:
    return os.path.exists(CHROMIUM)


def service_memory(service: Child) -> dict[str, float]:
    """The service's own RSS, and its children's (Playwright driver, Chromium) apart."""
    process = psutil.Process(service.pid)
    children = 0
    for child in process.children(recursive=True):
        try:
            children += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return {
        "service_rss_mb": round(process.memory_info().rss / MB, 2),
        "children_rss_mb": round(children / MB, 2),
    }


@benchmark(
    "relay-browser",
    "relay",
    "relay through the AI Studio service and Chromium: latency, stream, service RSS",
)
async def relay_browser(options: RunOptions) -> BenchResult:
    if not chromium_installed():
        options.say(f"  skipped: {CHROMIUM} is not installed")
        return BenchResult(notes=[f"not measured: {CHROMIUM} is not installed"])
    path = "router -> service -> Chromium page -> origin"
    async with (
        Processes(options.workdir / "relay-browser") as processes,
        relay_stack(processes, with_service=True) as (stack, _),
    ):
        assert stack.service is not None
        numbers, targets = await measure(options, stack, "relay-browser", path)
        await asyncio.sleep(0.5)
        memory = service_memory(stack.service)
    options.say(
        f"  service RSS {memory['service_rss_mb']} MB "
        f"(Playwright driver and Chromium apart: {memory['children_rss_mb']} MB)"
    )
    numbers |= memory
    targets.append(
        Target(
            "relay-browser.service_rss",
            "AI Studio service process RSS after the run, Chromium and driver excluded",
            memory["service_rss_mb"],
            SERVICE_RSS_LIMIT_MB,
            "MB",
        )
    )
    return BenchResult(
        numbers=numbers,
        targets=targets,
        notes=[
            "one page serves the sequential requests; the first opened it (warm-up)",
            f"origin stream events {STREAM_INTERVAL * 1000:g} ms apart, so the page reads "
            "them about one at a time",
            "children_rss_mb sums RSS over the driver and Chromium processes (shared pages "
            "counted more than once): context, not a target",
        ],
    )
