"""AI Studio without a Google session says "log in", never a 30-minute cooldown.

The service answers a request it cannot serve for lack of a session with an error frame
of status 401; the router must turn it into a non-retryable 403 naming
`cliproxy login aistudio`, rest nothing, and report the same on health.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
import yaml
from aiohttp import web

from testkit.relay_peer import RelayPeer, Send
from tests.aistudio.test_router_aistudio_errors import (
    MESSAGES,
    MODEL,
    aistudio_config,
    ws_url,
)
from tests.conftest import StartRouter

LOGIN_COMMAND = "cliproxy login aistudio"
REPO_ROOT = Path(__file__).resolve().parents[2]


def signed_out(requests: list[str]):
    async def handler(frame_id: str, request: dict[str, Any], send: Send) -> None:
        requests.append(frame_id)
        message = "AI Studio session expired or missing: log in again"
        await send(frame_id, "error", {"error": message, "status": 401})

    return handler


async def test_missing_session_is_a_login_error_without_cooldown(
    router_factory: StartRouter,
) -> None:
    router = await router_factory(aistudio_config())
    seen: list[str] = []
    async with RelayPeer(ws_url(router.url), signed_out(seen)), asyncio.timeout(20):
        await router.state.relay.wait_for_session("applet")
        chat = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="x", max_retries=0)
        for _ in range(2):
            with pytest.raises(openai.APIStatusError) as failed:
                await chat.chat.completions.create(model=MODEL, messages=MESSAGES)
            assert failed.value.status_code == 403
            assert LOGIN_COMMAND in failed.value.message
        claude = anthropic.AsyncAnthropic(base_url=router.url, api_key="x", max_retries=0)
        with pytest.raises(anthropic.PermissionDeniedError) as denied:
            await claude.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
        assert LOGIN_COMMAND in denied.value.body["error"]["message"]
    # Every request reached the browser: no cooldown stood in the way of the next one.
    assert len(seen) == 3


async def fake_control(port_holder: dict[str, Any], health: dict[str, Any]) -> web.AppRunner:
    received: list[dict[str, Any]] = port_holder.setdefault("received", [])

    async def health_handler(request: web.Request) -> web.Response:
        return web.json_response(health)

    async def login_handler(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer relay-secret":
            return web.json_response({"error": {"message": "key"}}, status=401)
        received.append(await request.json())
        return web.json_response({"ok": True, "state": "logged_in"})

    app = web.Application()
    app.router.add_get("/health", health_handler)
    app.router.add_post("/login", login_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_holder["port"] = runner.addresses[0][1]
    return runner


async def test_health_says_log_in_when_the_service_has_no_session(
    router_factory: StartRouter,
) -> None:
    holder: dict[str, Any] = {}
    runner = await fake_control(holder, {"connected": True, "session": "absent"})
    try:
        router = await router_factory(
            {
                "aistudio": {
                    "enabled": True,
                    "relay-key": "relay-secret",
                    "control-port": holder["port"],
                }
            }
        )
        async with asyncio.timeout(10):
            service = await router.state.runtime.aistudio.control.probe()
    finally:
        await runner.cleanup()
    assert service["login"] == "required"
    assert LOGIN_COMMAND in str(service["reason"])


STORAGE_STATE = {
    "cookies": [
        {
            "name": "SID",
            "value": "secret-cookie",
            "domain": ".google.com",
            "path": "/",
            "expires": -1,
            "httpOnly": True,
            "secure": True,
        }
    ],
    "origins": [],
}


def run_login(config: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIPROXY_CONFIG": str(config)}
    return subprocess.run(
        [str(Path(sys.executable).parent / "cliproxy"), "login", "aistudio", "--account", "me"],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO_ROOT,
    )


def write_config(tmp_path: Path, control_port: int) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "auth-dir": str(tmp_path / "auth"),
                "aistudio": {"relay-key": "relay-secret", "control-port": control_port},
            }
        )
    )
    return config


def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_headless_login_saves_a_pasted_session_when_the_service_is_down(tmp_path: Path) -> None:
    result = run_login(write_config(tmp_path, unused_port()), json.dumps(STORAGE_STATE))
    assert result.returncode == 0, result.stderr
    saved = tmp_path / "auth" / "aistudio-storage.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    record = json.loads(saved.read_text())
    assert record["cookies"][0]["value"] == "secret-cookie"
    assert record["cliproxy"]["account"] == "me"
    assert "secret-cookie" not in result.stdout + result.stderr


def test_headless_login_refuses_what_is_not_a_session(tmp_path: Path) -> None:
    result = run_login(write_config(tmp_path, unused_port()), '{"hello": 1}')
    assert result.returncode == 1
    assert "not a usable session" in result.stderr
    assert not (tmp_path / "auth" / "aistudio-storage.json").exists()


async def test_headless_login_hands_the_session_to_a_running_service(tmp_path: Path) -> None:
    holder: dict[str, Any] = {}
    runner = await fake_control(holder, {"session": "absent"})
    try:
        config = write_config(tmp_path, holder["port"])
        result = await asyncio.to_thread(run_login, config, json.dumps(STORAGE_STATE))
    finally:
        await runner.cleanup()
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout
    assert holder["received"][0]["cookies"][0]["name"] == "SID"
    assert holder["received"][0]["account"] == "me"


async def test_login_with_a_display_waits_for_the_browser_sign_in(tmp_path: Path) -> None:
    polls: list[str] = []

    async def start_sign_in(request: web.Request) -> web.Response:
        assert await request.read() == b""
        return web.json_response({"state": "waiting_for_sign_in"}, status=202)

    async def status(request: web.Request) -> web.Response:
        polls.append(request.headers.get("Authorization", ""))
        return web.json_response({"session": "logged_in" if len(polls) >= 2 else "absent"})

    app = web.Application()
    app.router.add_post("/login", start_sign_in)
    app.router.add_get("/status", status)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        config = write_config(tmp_path, runner.addresses[0][1])
        env = {**os.environ, "CLIPROXY_CONFIG": str(config), "DISPLAY": ":99"}
        result = await asyncio.to_thread(
            subprocess.run,
            [str(Path(sys.executable).parent / "cliproxy"), "login", "aistudio", "--browser"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    finally:
        await runner.cleanup()
    assert result.returncode == 0, result.stderr
    assert "sign in to Google there" in result.stdout and "Logged in" in result.stdout
    assert polls == ["Bearer relay-secret"] * 2
