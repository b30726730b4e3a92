"""Router -> /v1/ws relay -> AI Studio service (real Chromium) -> fake origin, and back.

One fake origin, one router and one service serve the whole module; every client SDK
asks for ``gemini-2.5-flash-aistudio`` and the origin must see ``gemini-2.5-flash``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import anthropic
import openai
import pytest
import pytest_asyncio
import yaml
from aiohttp import web
from google import genai

from providers.aistudio.control import start_control_server
from providers.aistudio.service import AIStudioService, ServiceSettings
from router.config import read_config
from router.server import RunningRouter, start_router
from testkit.fake_aistudio import FakeAIStudio, serve_fake, sse
from tests.aistudio.test_aistudio_service import (
    CHROMIUM,
    RELAY_KEY,
    SESSION,
    cookie_export,
    make_config,
)
from tests.conftest import closing_genai, health_headers

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]

MODEL = "gemini-2.5-flash-aistudio"
MESSAGES = [{"role": "user", "content": "hi"}]
STREAMED_TEXT = "part 0part 1part 2"
QUOTA_COOLDOWN = 30


@dataclass
class Stack:
    fake: FakeAIStudio
    paths: list[str]
    router: RunningRouter
    service: AIStudioService
    control: web.AppRunner
    config_path: Path

    @property
    def ws_url(self) -> str:
        return self.router.url.replace("http://", "ws://", 1) + "/v1/ws"


class FinishingFake(FakeAIStudio):
    """The shared fake origin, ending each stream with a finishReason as Gemini does.

    Supports the ``ok`` and ``stall`` modes (stall: hold after the first event).
    """

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            for index in range(self.chunks):
                if index == 1 and self.mode == "stall":
                    await asyncio.Event().wait()
                event = json.loads(sse(f"part {index}").decode()[len("data: ") :])
                if index == self.chunks - 1:
                    event["candidates"][0]["finishReason"] = "STOP"
                await response.write(f"data: {json.dumps(event)}\r\n\r\n".encode())
            await response.write_eof()
        except (asyncio.CancelledError, ConnectionError):
            await self.disconnects.put("")
            raise
        return response


async def start_recording_fake(paths: list[str]) -> FakeAIStudio:
    """The fake origin, recording the path of every API call."""
    fake = FinishingFake()

    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith("/v1beta/"):
            paths.append(request.path)
        return await handler(request)

    return await serve_fake(fake, (record,))


def router_config(fake: FakeAIStudio, control_port: int) -> dict:
    return {
        "aistudio": {
            "enabled": True,
            "relay-key": RELAY_KEY,
            "session-name": SESSION,
            "api-base": fake.origin,
            "control-port": control_port,
            "quota-cooldown": QUOTA_COOLDOWN,
        }
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    paths: list[str] = []
    fake = await start_recording_fake(paths)
    config_path = tmp_path_factory.mktemp("router") / "config.yaml"
    # The control port is only known once the service listens: start with a placeholder,
    # then reload, which must keep the relay hub (and its sessions) as it is.
    config_path.write_text(yaml.safe_dump(router_config(fake, 9)))
    router = await start_router(read_config(config_path, env={}), config_path, port=0)
    hub = router.state.relay
    settings = ServiceSettings(
        relay_url=router.url.replace("http://", "ws://", 1) + "/v1/ws",
        auth_dir=tmp_path_factory.mktemp("auth"),
    )
    service = AIStudioService(make_config(fake, tmp_path_factory.mktemp("logs")), settings)
    await service.start()
    control, port = await start_control_server(service, 0)
    async with asyncio.timeout(10):
        await hub.wait_for_session(SESSION)
    config_path.write_text(yaml.safe_dump(router_config(fake, port)))
    assert await router.state.reload()
    assert router.state.relay is hub and [s["name"] for s in hub.sessions()] == [SESSION]
    built = Stack(fake, paths, router, service, control, config_path)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            router.url + "/v1/auth/aistudio/login?account=tester",
            data=json.dumps(cookie_export("good-session")),
        ) as response:
            answer = await response.json()
            assert (response.status, answer["state"]) == (200, "logged_in"), answer
    yield built
    await router.stop()
    await control.cleanup()
    await service.stop()
    assert fake.server is not None
    await fake.server.close()


@pytest.fixture(autouse=True)
def reset_fake(stack: Stack) -> None:
    stack.fake.mode = "ok"
    stack.fake.chunks = 3
    stack.fake.disconnects = asyncio.Queue()
    stack.paths.clear()


async def test_openai_chat_stream_reaches_the_browser(stack: Stack) -> None:
    client = openai.AsyncOpenAI(base_url=stack.router.url + "/v1", api_key="unused")
    async with asyncio.timeout(20):
        stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == STREAMED_TEXT
    assert stack.paths == ["/v1beta/models/gemini-2.5-flash:streamGenerateContent"]


async def test_anthropic_messages_stream_reaches_the_browser(stack: Stack) -> None:
    client = anthropic.AsyncAnthropic(base_url=stack.router.url, api_key="unused")
    async with asyncio.timeout(20):
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
            text = "".join([piece async for piece in stream.text_stream])
    assert text == STREAMED_TEXT


async def test_google_genai_stream_and_whole_answer(stack: Stack) -> None:
    async with closing_genai(
        genai.Client(
            api_key="unused", http_options=genai.types.HttpOptions(base_url=stack.router.url)
        )
    ) as client:
        async with asyncio.timeout(20):
            stream = await client.aio.models.generate_content_stream(model=MODEL, contents="hi")
            text = "".join([chunk.text or "" async for chunk in stream])
            whole = await client.aio.models.generate_content(model=MODEL, contents="hi")
        assert text == STREAMED_TEXT
        assert whole.text == "hello"
        assert stack.paths == [
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            "/v1beta/models/gemini-2.5-flash:generateContent",
        ]


async def test_google_genai_count_tokens_is_counted_by_the_origin(stack: Stack) -> None:
    async with closing_genai(
        genai.Client(
            api_key="unused", http_options=genai.types.HttpOptions(base_url=stack.router.url)
        )
    ) as client:
        async with asyncio.timeout(20):
            counted = await client.aio.models.count_tokens(model=MODEL, contents="hello there")
        assert counted.total_tokens == len("hello there")
        assert stack.paths == ["/v1beta/models/gemini-2.5-flash:countTokens"]


async def open_stream(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientResponse:
    body = {"model": MODEL, "messages": MESSAGES, "stream": True}
    response = await http.post(url + "/v1/chat/completions", json=body)
    assert response.status == 200
    first = b""
    while b"part 0" not in first:
        first += await response.content.readany()
    return response


async def test_client_disconnect_cancels_the_relayed_fetch(stack: Stack) -> None:
    stack.fake.mode = "stall"
    upstream = stack.router.state.runtime.aistudio
    async with asyncio.timeout(20):
        async with aiohttp.ClientSession() as http:
            response = await open_stream(http, stack.router.url)
            assert upstream.active_requests() == 1
            response.close()
        await stack.fake.disconnects.get()
    assert upstream.active_requests() == 0


async def test_relay_drop_mid_stream_ends_with_the_relays_own_message(stack: Stack) -> None:
    """A relay peer dropping mid-stream says so to the client (not a generic "connection lost")."""
    stack.fake.mode = "stall"
    hub = stack.router.state.relay
    async with asyncio.timeout(20):
        async with aiohttp.ClientSession() as http:
            response = await open_stream(http, stack.router.url)
            await stack.service.relay.drop_connection()
            rest = (await response.read()).decode()
        assert '"error"' in rest
        assert f"upstream failed mid-stream: relay session '{SESSION}' dropped" in rest
        assert "upstream connection lost mid-stream" not in rest
        assert "Traceback" not in rest
        await stack.fake.disconnects.get()
        await hub.wait_for_session(SESSION)


async def test_health_shows_the_relay_session_and_the_service(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            stack.router.url + "/v1/health", headers=health_headers(stack.router)
        ) as response:
            health = await response.json()
    aistudio = health["services"]["aistudio"]
    assert aistudio["configured"] is True and aistudio["sessions_connected"] == 1
    assert [(s["name"], s["state"]) for s in aistudio["sessions"]] == [(SESSION, "ready")]
    assert aistudio["service"]["status"] == "up"
    assert aistudio["service"]["service"]["account"] == "tester"
    assert health["status"] == "ok"
    assert RELAY_KEY not in json.dumps(health)


async def test_auth_status_route_reaches_the_service(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(stack.router.url + "/v1/auth/aistudio/status") as response:
            status = await response.json()
    assert response.status == 200
    assert (status["session_name"], status["session"]) == (SESSION, "logged_in")


async def test_quota_answer_is_a_429_and_cools_the_session(stack: Stack) -> None:
    stack.fake.mode = "quota"
    client = openai.AsyncOpenAI(base_url=stack.router.url + "/v1", api_key="unused", max_retries=0)
    async with asyncio.timeout(20):
        with pytest.raises(openai.RateLimitError) as failed:
            await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert "rate limit" in str(failed.value).lower()
    (cooling,) = stack.router.state.cooldowns.active("aistudio")
    assert cooling["credential"] == SESSION
    assert QUOTA_COOLDOWN - 5 < cooling["remaining_s"] <= QUOTA_COOLDOWN
    assert failed.value.response.headers["Retry-After"] == str(QUOTA_COOLDOWN)
    calls = stack.fake.api_calls
    async with asyncio.timeout(20):
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert stack.fake.api_calls == calls, "a cooling session must not be asked again"


async def test_signing_in_again_ends_the_quota_cooldown(stack: Stack) -> None:
    state = stack.router.state
    assert state.cooldowns.active("aistudio"), "left by the quota test"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            stack.router.url + "/v1/auth/aistudio/login",
            data=json.dumps(cookie_export("good-session")),
        ) as response:
            answer = await response.json()
    assert (response.status, answer["state"]) == (200, "logged_in"), answer
    assert [s["state"] for s in state.relay.sessions()] == ["ready"]
    assert state.cooldowns.active("aistudio") == []
    assert stack.service.health()["quota"]["state"] == "ok"
    client = openai.AsyncOpenAI(base_url=stack.router.url + "/v1", api_key="unused", max_retries=0)
    async with asyncio.timeout(20):
        reply = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert reply.choices[0].message.content == "hello"


async def test_delete_route_forgets_the_login(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.delete(stack.router.url + "/v1/auth/aistudio") as response:
            answer = await response.json()
    assert (response.status, answer["state"]) == (200, "absent")
    assert stack.service.health()["session"] == "absent"
