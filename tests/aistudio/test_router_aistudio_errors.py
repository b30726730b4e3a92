"""AI Studio routing without a browser: no session, relay key on /v1/ws, management access."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
from aiohttp.test_utils import make_mocked_request
from google import genai

from router.app import create_app
from router.errors import ProxyError
from router.management.guard import is_management_path
from router.upstreams.aistudio import upstream_model
from testkit.relay_peer import Handler, RelayPeer, Send, stream_handler
from tests.conftest import StartRouter, closing_genai, health_headers

MODEL = "gemini-2.5-flash-aistudio"
MESSAGES = [{"role": "user", "content": "hi"}]
START_HINT = "python -m providers.aistudio"
RELAY_KEY = "relay-secret"


def aistudio_config(**extra: object) -> dict:
    return {"aistudio": {"relay-key": RELAY_KEY, "control-port": 9, **extra}}


def ws_url(router_url: str, key: str | None = RELAY_KEY, name: str = "applet") -> str:
    url = router_url.replace("http://", "ws://", 1) + f"/v1/ws?name={name}"
    return url + (f"&auth_token={key}" if key else "")


def test_model_suffix_is_removed_for_the_upstream() -> None:
    assert upstream_model("gemini-2.5-flash-aistudio") == "gemini-2.5-flash"
    assert upstream_model("gemini-2.5-pro") == "gemini-2.5-pro"


async def test_no_session_is_a_non_retried_403_in_each_client_format(
    router_factory: StartRouter,
) -> None:
    router = await router_factory(aistudio_config())
    chat = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.APIStatusError) as openai_failed:
        await chat.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert openai_failed.value.status_code == 403
    assert START_HINT in openai_failed.value.message

    messages = anthropic.AsyncAnthropic(base_url=router.url, api_key="unused", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as anthropic_failed:
        await messages.messages.create(model=MODEL, max_tokens=16, messages=MESSAGES)
    assert anthropic_failed.value.status_code == 403
    assert anthropic_failed.value.body["type"] == "error"
    assert START_HINT in anthropic_failed.value.body["error"]["message"]

    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{router.url}/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
            json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        ) as response:
            body = await response.json()
    assert response.status == 403
    assert body["error"]["code"] == 403 and START_HINT in body["error"]["message"]


async def test_relay_socket_requires_the_relay_key(router_factory: StartRouter) -> None:
    router = await router_factory(aistudio_config())
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url(router.url, key="wrong"))
    assert refused.value.status == 401
    hub = router.state.relay
    async with RelayPeer(ws_url(router.url), stream_handler([])):
        async with asyncio.timeout(5):
            await hub.wait_for_session("applet")
        assert router.state.runtime.aistudio.unconfigured_reason is None


async def test_applet_session_serves_without_the_service(router_factory: StartRouter) -> None:
    """The Build applet needs no service: aistudio.enabled false, a bare relay peer."""
    router = await router_factory(aistudio_config())
    event = {"candidates": [{"content": {"role": "model", "parts": [{"text": "hey"}]}}]}
    event["candidates"][0]["finishReason"] = "STOP"
    chunk = f"data: {json.dumps(event)}\r\n\r\n"
    async with RelayPeer(ws_url(router.url), stream_handler([chunk])) as peer:
        async with asyncio.timeout(5):
            await router.state.relay.wait_for_session("applet")
        chat = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused")
        async with asyncio.timeout(10):
            stream = await chat.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == "hey"
        sent = peer.requests[0]["payload"]
        assert sent["url"].endswith("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        async with aiohttp.ClientSession() as http:
            async with http.get(
                router.url + "/v1/health", headers=health_headers(router)
            ) as response:
                health = await response.json()
    aistudio = health["services"]["aistudio"]
    assert aistudio["sessions_connected"] == 1
    assert aistudio["service"] == {"status": "disabled"}
    assert health["status"] == "ok"


async def test_auth_routes_answer_503_when_the_service_is_down(
    router_factory: StartRouter,
) -> None:
    router = await router_factory(aistudio_config(enabled=True))
    async with aiohttp.ClientSession() as http:
        async with http.get(router.url + "/v1/auth/aistudio/status") as response:
            body = await response.json()
        async with http.get(
            router.url + "/v1/health", headers=health_headers(router)
        ) as health_response:
            health = await health_response.json()
    assert response.status == 503
    assert START_HINT in body["error"]["message"]
    assert health["services"]["aistudio"]["service"]["status"] == "down"
    assert health["status"] == "degraded"


async def test_auth_routes_refuse_clients_off_this_machine(router_factory: StartRouter) -> None:
    router = await router_factory(aistudio_config(enabled=True))
    app = create_app(router.state)
    for method, path in (
        ("GET", "/v1/auth/aistudio/status"),
        ("POST", "/v1/auth/aistudio/login"),
        ("DELETE", "/v1/auth/aistudio"),
    ):
        assert is_management_path(path)
        request = make_mocked_request(method, path, app=app).clone(remote="192.0.2.7")
        with pytest.raises(ProxyError) as refused:
            await router.state.management.check(request)
        assert refused.value.status == 403
        assert "this machine only" in refused.value.message


def answer_with(frame_type: str, payload: dict[str, Any]) -> Handler:
    async def handler(frame_id: str, request: dict[str, Any], send: Send) -> None:
        await send(frame_id, frame_type, payload)

    return handler


async def test_quota_error_rests_the_session_for_the_configured_cooldown(
    router_factory: StartRouter,
) -> None:
    router = await router_factory(aistudio_config(**{"quota-cooldown": 7}))
    quota = answer_with("error", {"error": "quota exhausted", "status": 429})
    async with RelayPeer(ws_url(router.url), quota), asyncio.timeout(10):
        await router.state.relay.wait_for_session("applet")
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{router.url}/v1beta/models/{MODEL}:generateContent",
                json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
            ) as response:
                body = await response.json()
        assert response.status == 429, body
        assert response.headers["Retry-After"] == "7"
        (cooling,) = router.state.cooldowns.active("aistudio")
        assert cooling["credential"] == "applet"
        assert 5 < cooling["remaining_s"] <= 7


async def test_login_frame_from_the_peer_clears_router_cooldowns(
    router_factory: StartRouter,
) -> None:
    router = await router_factory(aistudio_config())
    state = router.state
    async with RelayPeer(ws_url(router.url), stream_handler([])) as peer, asyncio.timeout(10):
        await state.relay.wait_for_session("applet")
        state.cooldowns.fail("aistudio", "applet", MODEL, "quota", retry_after=60)
        assert state.cooldowns.active("aistudio")
        await peer.send("login", "session_login", {})
        while state.cooldowns.active("aistudio"):
            await asyncio.sleep(0.01)
        assert [s["state"] for s in state.relay.sessions()] == ["ready"]


async def test_count_tokens_is_asked_of_gemini_through_the_relay(
    router_factory: StartRouter,
) -> None:
    router = await router_factory(aistudio_config())
    counted = answer_with(
        "http_response",
        {
            "status": 200,
            "headers": {"Content-Type": ["application/json"]},
            "body": '{"totalTokens": 4321}',
        },
    )
    async with closing_genai(
        genai.Client(api_key="unused", http_options=genai.types.HttpOptions(base_url=router.url))
    ) as client:
        async with asyncio.timeout(10):
            estimated = await client.aio.models.count_tokens(model=MODEL, contents="hello there")
            assert estimated.total_tokens != 4321, "with no session the router estimates"
            async with RelayPeer(ws_url(router.url), counted) as peer:
                await router.state.relay.wait_for_session("applet")
                relayed = await client.aio.models.count_tokens(model=MODEL, contents="hello there")
        assert relayed.total_tokens == 4321
        (request,) = peer.requests
        assert request["payload"]["url"].endswith("/v1beta/models/gemini-2.5-flash:countTokens")
        sent = json.loads(request["payload"]["body"])
        assert sent["generateContentRequest"]["model"] == "models/gemini-2.5-flash"
        assert sent["generateContentRequest"]["contents"][0]["parts"] == [{"text": "hello there"}]
