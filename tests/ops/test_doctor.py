"""`cliproxy doctor` against a real router, with each fault seeded and then absent.

The router runs in-process on a free port; doctor runs as the real console script with a
config naming that port. Upstreams are local fakes: one answers with a Date header an hour
off (clock skew), a fake AI Studio control port reports a service without a relay session
or without a Google session.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from tests.conftest import StartRouter

CLIPROXY = str(Path(sys.executable).parent / "cliproxy")
Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """``await serve(handler)`` serves one GET/HEAD handler on a free loopback port."""
    runners: list[web.AppRunner] = []

    async def start(routes: dict[str, Any]) -> str:
        app = web.Application()
        for path, handler in routes.items():
            app.router.add_route("*", path, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


def dated(offset_s: float) -> Any:
    async def handler(request: web.Request) -> web.Response:
        date = email.utils.formatdate(time.time() + offset_s, usegmt=True)
        return web.Response(status=404, headers={"Date": date})

    return handler


def control(health: dict[str, Any]) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(health)

    return handler


async def run_doctor(config: dict[str, Any], port: int, tmp_path: Path) -> dict[str, list[dict]]:
    path = tmp_path / "doctor-config.yaml"
    # The router under test keeps its credentials (and relay key) in tmp_path / "auth".
    path.write_text(yaml.safe_dump({"auth-dir": str(tmp_path / "auth"), **config, "port": port}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIPROXY_", "DOCTOR_"))}
    env["CLIPROXY_CONFIG"] = str(path)
    result = await asyncio.to_thread(
        subprocess.run,
        [CLIPROXY, "doctor", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    checks = json.loads(result.stdout)
    by_name: dict[str, list[dict]] = {}
    for check in checks:
        by_name.setdefault(check["name"], []).append(check)
    assert result.returncode == (0 if all(c["ok"] for c in checks) else 1)
    return by_name


def failed(checks: dict[str, list[dict]], name: str) -> dict:
    problems = [c for c in checks.get(name, []) if not c["ok"]]
    assert problems, f"doctor found no {name} problem: {checks}"
    assert problems[0]["fix"], f"{name} has no fix"
    return problems[0]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def test_doctor_finds_each_seeded_fault(
    router_factory: StartRouter, serve: Serve, tmp_path: Path
) -> None:
    skewed = await serve({"/{tail:.*}": dated(-3600)})
    service = await serve({"/health": control({"connected": False, "session": "logged_in"})})
    config = {
        "auth-dir": str(tmp_path / "auth"),
        "providers": [
            {
                "name": "skewed",
                "base-url": f"{skewed}/v1",
                "api-keys": ["${DOCTOR_UNSET_KEY}"],
                "models": ["doctor-model"],
            }
        ],
        "aistudio": {
            "enabled": True,
            "relay-key": "relay-secret",
            "control-port": port_of(service),
            "chromium-path": str(tmp_path / "no-chromium"),
        },
        "webai": {"enabled": True, "key": "k", "port": 9, "providers": ["Gemini"]},
    }
    router = await router_factory(config)
    checks = await run_doctor(config, port_of(router.url), tmp_path)
    assert "no-chromium" in failed(checks, "config")["detail"]
    assert "apt-get install -y chromium" in failed(checks, "config")["fix"]
    variables = failed(checks, "variables")
    assert "DOCTOR_UNSET_KEY" in variables["detail"] and ".env" in variables["fix"]
    assert "not connected to the router's relay" in failed(checks, "aistudio")["detail"]
    assert "cannot reach" in failed(checks, "webai")["detail"]
    credentials = failed(checks, "credentials")
    assert "skewed" in credentials["detail"] and "DOCTOR_UNSET_KEY" in credentials["fix"]
    clock = failed(checks, "clock")
    # The Date header has one-second resolution: an hour behind, give or take a second.
    offset = re.search(r"clock is \+(\d+) s off", clock["detail"])
    assert offset and 3595 <= int(offset.group(1)) <= 3605, clock
    assert "timedatectl" in clock["fix"]
    assert checks["router"][0]["ok"]


async def test_doctor_says_log_in_for_an_aistudio_service_without_session(
    router_factory: StartRouter, serve: Serve, tmp_path: Path
) -> None:
    service = await serve({"/health": control({"connected": True, "session": "expired"})})
    config = {"aistudio": {"enabled": True, "control-port": port_of(service)}}
    router = await router_factory(config)
    checks = await run_doctor(config, port_of(router.url), tmp_path)
    problem = failed(checks, "aistudio")
    assert "log in" in problem["detail"] and "cliproxy login aistudio" in problem["fix"]


async def test_doctor_finds_a_route_to_a_subscription_without_account(
    router_factory: StartRouter, tmp_path: Path
) -> None:
    config = {
        "auth-dir": str(tmp_path / "empty-auth"),
        "routes": [{"model": "claude-*", "providers": ["llmux-claude"]}],
    }
    router = await router_factory(config)
    checks = await run_doctor(config, port_of(router.url), tmp_path)
    problem = failed(checks, "credentials")
    assert "llmux-claude" in problem["detail"] and problem["fix"] == "cliproxy login claude"


async def test_doctor_passes_a_healthy_setup(
    router_factory: StartRouter, serve: Serve, tmp_path: Path
) -> None:
    upstream = await serve({"/{tail:.*}": dated(0)})
    config = {
        "providers": [
            {"name": "fine", "base-url": f"{upstream}/v1", "api-keys": ["k"], "models": ["m"]}
        ]
    }
    router = await router_factory(config)
    checks = await run_doctor(config, port_of(router.url), tmp_path)
    assert all(c["ok"] for group in checks.values() for c in group), checks
    assert "within" in checks["clock"][0]["detail"]


async def test_doctor_finds_the_port_taken_by_another_program(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        checks = await run_doctor({}, port, tmp_path)
    problem = failed(checks, "port")
    assert f"127.0.0.1:{port} is taken by another program" in problem["detail"]
    assert "CLIPROXY_PORT" in problem["fix"]
    free = await run_doctor({}, port, tmp_path)
    assert failed(free, "router")["fix"] == "cliproxy start"
