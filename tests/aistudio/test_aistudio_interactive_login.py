"""Interactive sign-in on a display: router route -> service -> visible Chromium on Xvfb.

The user is simulated by driving the visible page the service opened: typing a session
into the fake origin's sign-in form and pressing its button.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
import pytest_asyncio
import yaml
from aiohttp import web

from providers.aistudio.control import start_control_server
from providers.aistudio.service import AIStudioService, ServiceSettings
from router.config import read_config
from router.server import RunningRouter, start_router
from testkit.fake_aistudio import COOKIE, GOOD_SESSION, FakeAIStudio, start_fake_aistudio
from tests.aistudio.test_aistudio_process import free_port
from tests.aistudio.test_aistudio_service import CHROMIUM, RELAY_KEY, SESSION, make_config

XVFB = shutil.which("Xvfb")
MODEL = "gemini-2.5-flash-aistudio"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
    pytest.mark.skipif(
        XVFB is None, reason="Xvfb is not installed (apt-get install xvfb) - no display to test on"
    ),
]


@dataclass
class Stack:
    fake: FakeAIStudio
    router: RunningRouter
    service: AIStudioService
    control: web.AppRunner
    auth_dir: Path


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private Xvfb server; DISPLAY points at it while the module runs."""
    assert XVFB is not None
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        [XVFB, "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        number = announced.readline().strip()
    assert number, "Xvfb did not report its display number"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DISPLAY", f":{number}")
        patch.delenv("WAYLAND_DISPLAY", raising=False)
        yield f":{number}"
    xvfb.terminate()
    xvfb.wait(5)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(display: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    fake = await start_fake_aistudio()
    control_port = free_port()
    config_path = tmp_path_factory.mktemp("router") / "config.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "aistudio": {
                    "enabled": True,
                    "relay-key": RELAY_KEY,
                    "session-name": SESSION,
                    "api-base": fake.origin,
                    "control-port": control_port,
                }
            }
        )
    )
    router = await start_router(read_config(config_path, env={}), config_path, port=0)
    auth_dir = tmp_path_factory.mktemp("auth")
    settings = ServiceSettings(
        relay_url=router.url.replace("http://", "ws://", 1) + "/v1/ws", auth_dir=auth_dir
    )
    service = AIStudioService(make_config(fake, tmp_path_factory.mktemp("logs")), settings)
    await service.start()
    control, _ = await start_control_server(service, control_port)
    async with asyncio.timeout(10):
        await router.state.relay.wait_for_session(SESSION)
    yield Stack(fake, router, service, control, auth_dir)
    await router.stop()
    await control.cleanup()
    await service.stop()
    assert fake.server is not None
    await fake.server.close()


async def call(stack: Stack, method: str, path: str) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, stack.router.url + path) as response,
    ):
        return response.status, await response.json()


async def test_interactive_sign_in_on_a_display_saves_the_session(stack: Stack) -> None:
    state = stack.router.state
    state.cooldowns.fail("aistudio", SESSION, MODEL, "quota", retry_after=60)

    status, answer = await call(stack, "POST", "/v1/auth/aistudio/login")
    assert (status, answer["state"]) == (202, "waiting_for_sign_in"), answer

    async with asyncio.timeout(20):
        while (page := stack.service.interactive.page) is None or "/signin" not in page.url:
            await asyncio.sleep(0.05)
        assert "HeadlessChrome" not in await page.evaluate("navigator.userAgent")
        status, during = await call(stack, "GET", "/v1/auth/aistudio/status")
        assert during["interactive_login"]["state"] == "waiting_for_sign_in"
        assert during["session"] == "absent"

        await page.fill("#session", GOOD_SESSION)
        await page.click("#login")

        while (await call(stack, "GET", "/v1/auth/aistudio/status"))[1]["interactive_login"][
            "state"
        ] in ("waiting_for_sign_in", "verifying"):
            await asyncio.sleep(0.1)
    status, after = await call(stack, "GET", "/v1/auth/aistudio/status")
    assert after["interactive_login"] == {"state": "signed_in", "detail": ""}
    assert after["session"] == "logged_in"
    assert stack.service.interactive.page is None, "the visible browser is closed afterwards"

    path = stack.auth_dir / "aistudio-storage.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert [c["value"] for c in saved["cookies"] if c["name"] == COOKIE] == [GOOD_SESSION]

    async with asyncio.timeout(5):
        while state.cooldowns.active("aistudio"):
            await asyncio.sleep(0.02)
    assert [s["state"] for s in state.relay.sessions()] == ["ready"]

    client = openai.AsyncOpenAI(base_url=stack.router.url + "/v1", api_key="unused", max_retries=0)
    async with asyncio.timeout(20):
        reply = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}]
        )
    assert reply.choices[0].message.content == "hello"


async def test_closing_the_sign_in_window_is_reported(stack: Stack) -> None:
    status, answer = await call(stack, "POST", "/v1/auth/aistudio/login")
    assert status == 202, answer
    status, during = await call(stack, "GET", "/v1/auth/aistudio/status")
    assert during["interactive_login"]["state"] == "waiting_for_sign_in", "reported at once"
    async with asyncio.timeout(20):
        while (page := stack.service.interactive.page) is None:
            await asyncio.sleep(0.05)
        await page.close()
        while stack.service.interactive.state == "waiting_for_sign_in":
            await asyncio.sleep(0.05)
    status, after = await call(stack, "GET", "/v1/auth/aistudio/status")
    assert after["interactive_login"] == {
        "state": "failed",
        "detail": "the sign-in window was closed",
    }
    assert after["session"] == "logged_in", "the saved session is kept"
