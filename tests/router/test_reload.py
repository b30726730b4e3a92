"""SIGHUP reloads the config of a running router process; a bad config changes nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.conftest import provider
from tests.fakes.behaviours import Stream
from tests.fakes.openai import OpenAIFake

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RouterProcess:
    def __init__(self, process: asyncio.subprocess.Process, url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    async def wait_for_log(self, fragment: str, count: int = 1, timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while self.log.read_text().count(fragment) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{fragment!r} not logged:\n{self.log.read_text()}")
            await asyncio.sleep(0.02)


@pytest.fixture
async def router_process(tmp_path: Path) -> AsyncIterator[tuple[RouterProcess, Path]]:
    config = tmp_path / "config.yaml"
    config.write_text("{}\n")
    port = free_port()
    log = tmp_path / "router.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "router",
            "--config",
            str(config),
            cwd=REPO,
            stdout=sink,
            stderr=sink,
            env={**os.environ, "CLIPROXY_PORT": str(port)},
        )
    running = RouterProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        yield running, config
    finally:
        if running.process.returncode is None:
            running.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(running.process.wait(), 10)


async def test_sighup_reloads_and_rejects_bad_config(router_process, openai_fake: OpenAIFake):
    router, config_path = router_process
    config = {"providers": [provider("p", openai_fake.base_url + "/v1", [openai_fake.key], ["m1"])]}
    config_path.write_text(yaml.safe_dump(config))
    await router.wait_for_log("event=listening")
    router.process.send_signal(signal.SIGHUP)
    await router.wait_for_log("event=reloaded")
    body = {"messages": [{"role": "user", "content": "hi"}]}
    openai_fake.script.push(Stream(chunks=20, interval=0.05))
    async with aiohttp.ClientSession() as http:
        in_flight = await http.post(
            router.url + "/v1/chat/completions", json={**body, "model": "m1", "stream": True}
        )
        assert in_flight.status == 200
        config["providers"][0]["models"] = ["m2"]
        config_path.write_text(yaml.safe_dump(config))
        router.process.send_signal(signal.SIGHUP)
        await router.wait_for_log("event=reloaded", count=2)
        streamed = (await in_flight.read()).decode()
        assert streamed.rstrip().endswith("data: [DONE]"), "in-flight stream was dropped"
        async with http.post(
            router.url + "/v1/chat/completions", json={**body, "model": "m2"}
        ) as r:
            assert r.status == 200
        async with http.post(
            router.url + "/v1/chat/completions", json={**body, "model": "m1"}
        ) as r:
            assert r.status == 404
        config_path.write_text("routing:\n  strategy: random\n")
        router.process.send_signal(signal.SIGHUP)
        await router.wait_for_log("event=reload_rejected")
        assert "routing.strategy: expected one of round-robin, fill-first" in router.log.read_text()
        async with http.post(
            router.url + "/v1/chat/completions", json={**body, "model": "m2"}
        ) as r:
            assert r.status == 200
    assert router.process.returncode is None


async def test_the_event_loop_is_logged_and_a_reload_names_what_needs_a_restart(router_process):
    """uvloop is a dependency, so ``auto`` serves on it; a reload cannot swap the loop (or
    the port, or the worker count) of a running router and says so, naming the key."""
    router, config_path = router_process
    await router.wait_for_log("event=listening")
    assert "event_loop=uvloop" in router.log.read_text()
    config_path.write_text(yaml.safe_dump({"server": {"event-loop": "asyncio"}, "workers": "1"}))
    router.process.send_signal(signal.SIGHUP)
    await router.wait_for_log("event=reload_restart_needed")
    assert 'keys="workers,server.event-loop"' in router.log.read_text()


async def test_event_loop_asyncio_keeps_the_standard_loop(router_process):
    router, config_path = router_process
    await router.wait_for_log("event=listening")
    router.process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(router.process.wait(), 10)
    config_path.write_text(yaml.safe_dump({"server": {"event-loop": "asyncio"}, "workers": "1"}))
    router.log.write_text("")
    with router.log.open("ab") as sink:
        router.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "router",
            "--config",
            str(config_path),
            cwd=REPO,
            stdout=sink,
            stderr=sink,
            env={**os.environ, "CLIPROXY_PORT": router.url.rsplit(":", 1)[1]},
        )
    await router.wait_for_log("event=listening")
    assert "event_loop=asyncio" in router.log.read_text()
