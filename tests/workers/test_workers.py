"""Two real router processes on one port (``workers: 2``): both serve, each is reported,
cooldowns and relay sessions hold across them, a killed worker comes back and a killed
parent takes its workers with it.

The router runs as ``python -m router`` in a subprocess; the fake upstream and the relay
peer run in the test's event loop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest
import yaml

from testkit.relay_peer import RelayPeer, stream_handler
from tests.fakes.behaviours import Status
from tests.fakes.oauth import ClaudeOAuthFake
from tests.fakes.openai import OpenAIFake

pytestmark = pytest.mark.asyncio

RELAY_KEY = "relay-key-for-worker-tests"
REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Workers:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    config_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def write_config(
    path: Path, fake: OpenAIFake, auth_dir: Path, models: list[Any], **extra: Any
) -> None:
    config = {
        **extra,
        "host": "127.0.0.1",
        "auth-dir": str(auth_dir),
        "workers": 2,
        "aistudio": {"relay-key": RELAY_KEY},
        "usage": {"enabled": False},
        "providers": [
            {
                "name": "openai",
                "kind": "openai",
                "base-url": fake.base_url + "/v1",
                "api-keys": [fake.key],
                "models": models,
            }
        ],
    }
    path.write_text(yaml.safe_dump(config))


async def fresh_get(url: str, path: str) -> dict[str, Any]:
    """A GET on a new connection (the kernel picks the worker per connection)."""
    headers = {"Authorization": f"Bearer {RELAY_KEY}"}
    async with aiohttp.ClientSession() as session, session.get(url + path, headers=headers) as r:
        assert r.status == 200, await r.text()
        return dict(await r.json())


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
            if result:
                return result
        except (AssertionError, aiohttp.ClientError):
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


async def worker_pids(workers: Workers) -> dict[int, int]:
    """Worker -> pid once the worker answering sees both (each reads the others'
    documents at most every half second)."""

    async def both() -> dict[int, int]:
        document = await fresh_get(workers.url, "/v1/management/health")
        found = {w["worker"]: w["pid"] for w in document["workers"]["list"]}
        return found if len(found) == 2 else {}

    return dict(await eventually(both, START_TIMEOUT))


@pytest.fixture
async def openai_fake() -> AsyncIterator[OpenAIFake]:
    async with OpenAIFake() as fake:
        yield fake


@pytest.fixture
async def workers(tmp_path: Path, openai_fake: OpenAIFake) -> AsyncIterator[Workers]:
    config_path = tmp_path / "config.yaml"
    write_config(config_path, openai_fake, tmp_path / "auth", ["gpt-4o-mini"])
    port = free_port()
    log_path = tmp_path / "router.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: ASYNC220 (started once, never waited on here)
            [sys.executable, "-m", "router", "--config", str(config_path)],
            cwd=REPO,
            env={**os.environ, "CLIPROXY_PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    running = Workers(process, port, log_path, config_path)

    try:
        await worker_pids(running)
        yield running
    finally:
        children = psutil.Process(process.pid).children() if process.poll() is None else []
        process.terminate()
        await asyncio.to_thread(process.wait, 15)
        for child in children:
            assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE


async def chat(url: str, model: str = "gpt-4o-mini") -> tuple[int, dict[str, Any]]:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/v1/chat/completions", json=body) as reply,
    ):
        return reply.status, dict(await reply.json())


async def served_by_both(workers: Workers, marker: str) -> None:
    """Both workers logged a request line containing ``marker`` (lines reach the log file
    from a writer thread, a moment after the answer)."""

    async def both() -> bool:
        return answered_by(workers.log(), marker) == {"0", "1"}

    try:
        await eventually(both, 5)
    except AssertionError:
        raise AssertionError(
            f"{marker!r} not served by both workers:\n{workers.log()[-3000:]}"
        ) from None


def answered_by(log: str, marker: str) -> set[str]:
    """Worker numbers on the request log lines that contain ``marker``."""
    return {
        field.removeprefix("worker=")
        for line in log.splitlines()
        if marker in line and "router.request" in line
        for field in line.split()
        if field.startswith("worker=")
    }


async def test_two_workers_share_the_port_and_each_is_reported(workers: Workers) -> None:
    pids = await worker_pids(workers)
    assert pids[0] == workers.process.pid
    assert pids[1] in {c.pid for c in psutil.Process(workers.process.pid).children()}
    for _ in range(40):
        status, _answer = await chat(workers.url)
        assert status == 200
    await served_by_both(workers, "path=/v1/chat/completions status=200")


async def test_a_second_router_cannot_share_the_port(workers: Workers) -> None:
    """SO_REUSEPORT must not let another instance (another config) take half the traffic."""
    second = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "router", "--config", str(workers.config_path)],
        cwd=REPO,
        env={**os.environ, "CLIPROXY_PORT": str(workers.port)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 1, second.stderr
    assert f"cannot listen on 127.0.0.1:{workers.port}" in second.stderr
    assert len(await worker_pids(workers)) == 2


async def test_a_cooldown_one_worker_earns_holds_on_every_worker(
    workers: Workers, openai_fake: OpenAIFake
) -> None:
    openai_fake.script.push(Status(429, retry_after=60))
    status, _ = await chat(workers.url)
    assert status == 429
    seen = len(openai_fake.requests)
    for _ in range(20):
        status, answer = await chat(workers.url)
        assert status == 429, answer
    assert len(openai_fake.requests) == seen, "a worker sent to a credential that rests"
    await served_by_both(workers, "status=429")
    for _ in range(10):
        health = await fresh_get(workers.url, "/v1/management/health")
        cooldowns = health["providers"]["openai"]["cooldowns"]
        assert [c["credential"] for c in cooldowns] == ["key1"], health["workers"]


async def relayed_on_fresh_connections(workers: Workers, count: int, text: str) -> None:
    """``count`` AI Studio requests, each on a new connection (so the kernel spreads them
    over the workers), each answered 200 with ``text`` from the relay peer."""
    path = "/v1beta/models/gemini-2.5-flash-aistudio:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    for _ in range(count):
        async with (
            aiohttp.ClientSession() as session,
            session.post(workers.url + path, json=body) as reply,
        ):
            answer = await reply.text()
            assert reply.status == 200, answer
            assert text in answer


async def test_a_relay_session_on_one_worker_serves_requests_on_every_worker(
    workers: Workers,
) -> None:
    ws_url = f"ws://127.0.0.1:{workers.port}/v1/ws?auth_token={RELAY_KEY}&name=browser"
    chunks = [
        'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"relayed"}]},'
        '"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,'
        '"candidatesTokenCount":1,"totalTokenCount":2}}\n\n'
    ]
    async with RelayPeer(ws_url, stream_handler(chunks)) as peer:
        seen_by: set[int] = set()

        async def every_worker_sees_it() -> bool:
            """Each worker learns of the other's sessions from its published document
            (every second, read at most every half second)."""
            health = await fresh_get(workers.url, "/v1/management/health")
            if health["services"]["aistudio"]["sessions_connected"] == 1:
                seen_by.add(health["workers"]["answered_by"])
            return seen_by == {0, 1}

        await eventually(every_worker_sees_it)
        await relayed_on_fresh_connections(workers, 16, "relayed")
        assert len(peer.requests) == 16
    await served_by_both(workers, "model=gemini-2.5-flash-aistudio")


async def test_a_relay_session_serves_every_worker_from_the_moment_it_connects(
    workers: Workers,
) -> None:
    """The holder publishes its sessions as one connects, and a worker that finds none
    reads past its cache before saying so: once one worker has the session, no "no relay
    session" answer while the heartbeat catches up. Each request is a new connection, so
    both workers get some."""
    ws_url = f"ws://127.0.0.1:{workers.port}/v1/ws?auth_token={RELAY_KEY}&name=fresh"
    chunks = [
        'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"at once"}]},'
        '"finishReason":"STOP"}]}\n\n'
    ]
    await eventually(lambda: worker_pids(workers))

    async def registered_by_its_worker() -> bool:
        """The holder took the session in (the 101 can reach the peer a moment before)."""
        health = await fresh_get(workers.url, "/v1/management/health")
        return health["services"]["aistudio"]["sessions_connected"] == 1

    async with RelayPeer(ws_url, stream_handler(chunks)) as peer:
        await eventually(registered_by_its_worker)
        await relayed_on_fresh_connections(workers, 12, "at once")
        assert len(peer.requests) == 12
    await served_by_both(workers, "model=gemini-2.5-flash-aistudio")


async def test_a_killed_worker_comes_back_and_a_killed_parent_takes_workers_along(
    workers: Workers,
) -> None:
    before = await worker_pids(workers)
    os.kill(before[1], signal.SIGKILL)

    replacement: list[int] = []

    async def replaced() -> bool:
        """A new worker 1 runs (a worker may still list the old pid for a moment)."""
        pid = (await worker_pids(workers)).get(1)
        if pid not in (None, before[1]) and psutil.pid_exists(pid):
            replacement.append(pid)
        return bool(replacement)

    await eventually(replaced, 15)
    status, _ = await chat(workers.url)
    assert status == 200
    child = psutil.Process(replacement[0])
    workers.process.kill()
    workers.process.wait()
    await asyncio.to_thread(child.wait, 10)
    assert not child.is_running()


async def test_reload_reaches_every_worker(workers: Workers, openai_fake: OpenAIFake) -> None:
    write_config(
        workers.config_path,
        openai_fake,
        workers.config_path.parent / "auth",
        [{"name": "gpt-4o-mini", "aliases": ["quick"]}],
    )
    workers.process.send_signal(signal.SIGHUP)

    async def reloaded_everywhere() -> bool:
        return workers.log().count("event=reloaded") == 2

    await eventually(reloaded_everywhere)
    for _ in range(20):
        status, answer = await chat(workers.url, "quick")
        assert status == 200, answer
    await served_by_both(workers, "model=quick")


async def test_a_login_started_on_one_worker_finishes_on_another(
    workers: Workers, openai_fake: OpenAIFake
) -> None:
    async with ClaudeOAuthFake(emails=("ada@example.com",)) as oauth:
        section = {
            "authorize-url": oauth.authorize_endpoint,
            "token-url": oauth.token_endpoint,
            "redirect-uri": f"http://localhost:{free_port()}/callback",
        }
        write_config(
            workers.config_path,
            openai_fake,
            workers.config_path.parent / "auth",
            ["gpt-4o-mini"],
            subscriptions={"claude": section},
        )
        workers.process.send_signal(signal.SIGHUP)

        async def reloaded_everywhere() -> bool:
            return workers.log().count("event=reloaded") == 2

        await eventually(reloaded_everywhere)
        for _ in range(8):
            started = await fresh_get(workers.url, "/v1/auth/llmux/claude/login")
            pasted = await oauth.authorize_paste(started["url"])
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    workers.url + "/v1/auth/llmux/claude/callback", json={"code": pasted}
                ) as reply,
            ):
                answer = await reply.json()
                assert reply.status == 200, answer
                assert answer["label"] == "ada@example.com"
    await served_by_both(workers, "path=/v1/auth/llmux/claude/callback status=200")
    await served_by_both(workers, "path=/v1/auth/llmux/claude/login status=200")
