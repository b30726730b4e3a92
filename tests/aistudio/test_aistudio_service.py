"""The AI Studio service with real Chromium: hub -> service -> page -> fake origin and back.

One fake origin, one hub and one service (one browser) serve the whole module.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from providers.aistudio.control import start_control_server
from providers.aistudio.service import AIStudioService, ServiceSettings
from router.config import AIStudioConfig
from router.relay import RelayError, RelayHub
from testkit.fake_aistudio import COOKIE, FakeAIStudio, start_fake_aistudio
from tests.aistudio.conftest import HubServer, start_hub_server

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]

API = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash"
STREAM_URL = f"{API}:streamGenerateContent?alt=sse"
PLAIN_URL = f"{API}:generateContent"
BODY = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
RELAY_KEY = "relay-test-key"
SESSION = "aistudio-test"


@dataclass
class Stack:
    fake: FakeAIStudio
    hub_server: HubServer
    service: AIStudioService
    control: web.AppRunner
    control_url: str
    auth_dir: Path
    logs_dir: Path

    @property
    def hub(self) -> RelayHub:
        return self.hub_server.hub


def make_config(fake: FakeAIStudio, logs_dir: Path) -> AIStudioConfig:
    return AIStudioConfig(
        enabled=True,
        relay_key=RELAY_KEY,
        session_name=SESSION,
        chromium_path=CHROMIUM,
        origin=fake.origin + "/",
        api_base=fake.origin,
        pages=2,
        queue_size=4,
        queue_timeout=10.0,
        control_port=0,
        diagnostics_dir=str(logs_dir),
    )


async def start_service(
    fake: FakeAIStudio, hub_server: HubServer, auth_dir: Path, logs_dir: Path
) -> tuple[AIStudioService, web.AppRunner, str]:
    settings = ServiceSettings(relay_url=hub_server.ws_url(), auth_dir=auth_dir)
    service = AIStudioService(make_config(fake, logs_dir), settings)
    await service.start()
    runner, port = await start_control_server(service, 0)
    async with asyncio.timeout(10):
        await hub_server.hub.wait_for_session(SESSION)
    return service, runner, f"http://127.0.0.1:{port}"


async def control(
    stack: Stack, method: str, path: str, body: object = None, key: str | None = RELAY_KEY
) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            stack.control_url + path,
            headers=headers,
            data=json.dumps(body) if body is not None else None,
        ) as resp,
    ):
        return resp.status, await resp.json()


def cookie_export(value: str) -> list[dict]:
    """A browser-extension style cookie export (expirationDate, lower-case sameSite)."""
    return [
        {
            "name": COOKIE,
            "value": value,
            "domain": "127.0.0.1",
            "path": "/",
            "expirationDate": 4102444800,
            "httpOnly": True,
            "secure": False,
            "sameSite": "lax",
        }
    ]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    fake = await start_fake_aistudio()
    hub_server = await start_hub_server(RelayHub())
    auth_dir = tmp_path_factory.mktemp("auth")
    logs_dir = tmp_path_factory.mktemp("logs")
    service, runner, url = await start_service(fake, hub_server, auth_dir, logs_dir)
    built = Stack(fake, hub_server, service, runner, url, auth_dir, logs_dir)
    status, result = await control(
        built, "POST", "/login?account=tester", cookie_export("good-session")
    )
    assert (status, result["state"]) == (200, "logged_in"), result
    yield built
    await built.control.cleanup()
    await built.service.stop()
    await hub_server.hub.close()
    await hub_server.server.close()
    assert fake.server is not None
    await fake.server.close()


@pytest.fixture(autouse=True)
def reset_fake(stack: Stack) -> None:
    stack.fake.mode = "ok"
    stack.fake.chunks = 3
    stack.fake.gate = None
    stack.fake.release = asyncio.Event()
    stack.fake.arrivals = asyncio.Queue()
    stack.fake.disconnects = asyncio.Queue()


async def relay(stack: Stack, url: str = STREAM_URL, tag: str = "") -> object:
    headers = {"Content-Type": ["application/json"], "X-Test-Tag": [tag]}
    return await stack.hub.request("POST", url, headers, BODY, session=SESSION)


async def count_events(reply: object) -> int:
    """SSE events in a whole streamed body (network chunks may carry several)."""
    body = b"".join([chunk async for chunk in reply]).decode()
    return body.count("data: ")


async def test_streamed_request_arrives_chunk_by_chunk(stack: Stack) -> None:
    stack.fake.gate = asyncio.Queue()
    stack.fake.chunks = 4
    async with asyncio.timeout(20):
        reply = await relay(stack)
        assert (reply.status, reply.streaming) == (200, True)
        assert reply.headers["content-type"].startswith("text/event-stream")
        received = []
        for index in range(4):
            chunk = await anext(reply)
            received.append(chunk)
            assert f"part {index}".encode() in chunk
            await stack.fake.gate.put(None)
        with pytest.raises(StopAsyncIteration):
            await anext(reply)
        await reply.aclose()
    text = b"".join(received).decode()
    assert text.count("data: ") == 4
    assert stack.service.health()["last_success"] is not None


async def test_plain_generate_content(stack: Stack) -> None:
    async with asyncio.timeout(20):
        reply = await relay(stack, PLAIN_URL)
        assert (reply.status, reply.streaming) == (200, False)
        body = json.loads(b"".join([c async for c in reply]))
    assert body["candidates"][0]["content"]["parts"][0]["text"] == "hello"


async def test_two_concurrent_requests_use_two_pages(stack: Stack) -> None:
    stack.fake.mode = "hold"
    async with asyncio.timeout(20):
        first = asyncio.create_task(relay(stack, tag="one"))
        second = asyncio.create_task(relay(stack, tag="two"))
        arrived = {await stack.fake.arrivals.get(), await stack.fake.arrivals.get()}
        assert arrived == {"one", "two"}, "both requests must reach the origin at once"
        assert stack.service.pool.describe()["in_use"] == 2
        stack.fake.release.set()
        for task in (first, second):
            reply = await task
            assert await count_events(reply) == 3


async def test_requester_cancel_aborts_fetch_in_page(stack: Stack) -> None:
    stack.fake.mode = "stall"
    async with asyncio.timeout(20):
        reply = await relay(stack, tag="cancel-me")
        assert b"part 0" in await anext(reply)
        await reply.aclose()
        assert await stack.fake.disconnects.get() == "cancel-me"


async def test_quota_answer_starts_cooldown(stack: Stack) -> None:
    stack.fake.mode = "quota"
    async with asyncio.timeout(20):
        reply = await relay(stack)
        assert reply.status == 429
        body = json.loads(b"".join([c async for c in reply]))
        assert body["error"]["status"] == "RESOURCE_EXHAUSTED"
        quota = stack.service.health()["quota"]
        assert quota["state"] == "cooldown"
        assert quota["remaining_seconds"] > 0
        calls = stack.fake.api_calls
        with pytest.raises(RelayError) as failed:
            await relay(stack)
        assert failed.value.status == 429
        assert "cooldown" in failed.value.message
        assert stack.fake.api_calls == calls, "a request in cooldown must not reach upstream"
    assert list(stack.logs_dir.glob("*-quota.png")), "quota failure saves a screenshot"
    assert list(stack.logs_dir.glob("*-quota.html"))
    stack.service.clear_cooldown()


async def test_relay_drop_fails_pending_and_reconnects(stack: Stack) -> None:
    stack.fake.mode = "stall"
    connections = stack.service.relay.connections
    async with asyncio.timeout(20):
        reply = await relay(stack, tag="dropped")
        assert b"part 0" in await anext(reply)
        await stack.service.relay.drop_connection()
        with pytest.raises(RelayError, match="dropped"):
            await anext(reply)
        assert await stack.fake.disconnects.get() == "dropped"
        await stack.hub.wait_for_session(SESSION)
        stack.fake.mode = "ok"
        reply = await relay(stack)
        assert await count_events(reply) == 3
    assert stack.service.relay.connections == connections + 1


async def test_killed_browser_fails_request_then_comes_back(stack: Stack) -> None:
    stack.fake.mode = "stall"
    browser = stack.service.browser
    generation = browser.generation
    async with asyncio.timeout(30):
        reply = await relay(stack, tag="crash")
        assert b"part 0" in await anext(reply)
        pids = browser.browser_pids()
        assert len(pids) == 1
        os.kill(pids[0], signal.SIGKILL)
        with pytest.raises(RelayError) as failed:
            await anext(reply)
        assert "browser" in failed.value.message
        await browser.wait_for_generation(generation + 1)
        assert browser.state == "running"
        stack.fake.mode = "ok"
        reply = await relay(stack)
        assert await count_events(reply) == 3
    assert browser.restarts == 1


async def test_session_expiry_is_detected_and_reported(stack: Stack) -> None:
    stack.fake.valid_sessions = {"second-session"}
    async with asyncio.timeout(30):
        with pytest.raises(RelayError) as failed:
            await relay(stack)
        assert failed.value.status == 401
        assert "log in again" in failed.value.message
        health = stack.service.health()
        assert health["session"] == "expired"
        calls = stack.fake.api_calls
        with pytest.raises(RelayError, match="log in again"):
            await relay(stack)
        assert stack.fake.api_calls == calls, "an expired session fails fast"

        status, result = await control(stack, "POST", "/login", cookie_export("stale-session"))
        assert (status, result["ok"]) == (422, False)
        assert "sign-in" in result["error"]
        assert list(stack.logs_dir.glob("*-session-expired.html"))

        storage_state = {"cookies": cookie_export("second-session"), "origins": []}
        storage_state["cookies"][0]["expires"] = storage_state["cookies"][0].pop("expirationDate")
        status, result = await control(stack, "POST", "/login", storage_state)
        assert (status, result["state"]) == (200, "logged_in")
        reply = await relay(stack)
        assert await count_events(reply) == 3


async def test_control_port_requires_relay_key(stack: Stack) -> None:
    status, body = await control(stack, "GET", "/health", key=None)
    assert status == 401
    status, body = await control(stack, "GET", "/health", key="wrong")
    assert status == 401
    status, body = await control(stack, "GET", "/health")
    assert status == 200
    assert body["connected"] is True
    assert body["account"] == "tester"
    assert body["browser"] == "running"
    assert RELAY_KEY not in json.dumps(await control(stack, "GET", "/status"))
    status, body = await control(stack, "POST", "/login", {"nonsense": True})
    assert status == 400


async def test_empty_login_without_a_display_asks_for_an_import(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    status, body = await control(stack, "POST", "/login")
    assert status == 400
    assert "no display" in body["error"]["message"]
    assert stack.service.interactive.state == "idle"


async def test_storage_state_survives_service_restart(stack: Stack) -> None:
    await stack.control.cleanup()
    await stack.service.stop()
    path = stack.auth_dir / "aistudio-storage.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert [c["value"] for c in saved["cookies"] if c["name"] == COOKIE] == ["second-session"]
    assert any(
        item["name"] == "aistudio-pref" for o in saved["origins"] for item in o["localStorage"]
    ), "local storage is saved with the cookies"

    service, runner, url = await start_service(
        stack.fake, stack.hub_server, stack.auth_dir, stack.logs_dir
    )
    stack.service, stack.control, stack.control_url = service, runner, url
    async with asyncio.timeout(20):
        reply = await relay(stack)
        assert await count_events(reply) == 3
    assert service.health()["session"] == "logged_in"
    assert service.health()["account"] == "tester"


async def test_delete_session_forgets_login_and_closes_browser(stack: Stack) -> None:
    status, body = await control(stack, "DELETE", "/session")
    assert (status, body["state"]) == (200, "absent")
    assert not (stack.auth_dir / "aistudio-storage.json").exists()
    assert stack.service.browser.browser_pids() == []
    health = stack.service.health()
    assert (health["session"], health["browser"], health["account"]) == ("absent", "stopped", None)
    async with asyncio.timeout(10):
        with pytest.raises(RelayError, match="log in again") as failed:
            await relay(stack)
    assert failed.value.status == 401
