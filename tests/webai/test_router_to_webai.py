"""Router -> webai sidecar -> real g4f client with test providers, over loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import openai
import pytest

from tests.conftest import StartRouter, health_headers, provider
from tests.fakes.behaviours import Status
from tests.fakes.openai import OpenAIFake
from tests.webai import g4f_test_providers
from tests.webai.helpers import KEY, provider_spec, wait_until

MESSAGES = [{"role": "user", "content": "hi"}]


def webai_section(base_url: str, *providers: str, **extra: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "host": "127.0.0.1",
        "port": urlsplit(base_url).port,
        "key": KEY,
        "timeout": 2,
        "providers": [provider_spec(p) for p in providers],
        "models": {"gpt-webai": "test-model"},
        **extra,
    }


async def router_with_webai(
    router_factory: StartRouter,
    start_service: Callable[..., Awaitable[str]],
    *providers: str,
    **extra: Any,
):
    service = await start_service(*providers, timeout=extra.pop("service_timeout", 5.0))
    config = {"routing": {"retry-backoff": 0.01}, "webai": webai_section(service, *providers)}
    config.update(extra)
    return await router_factory(config), service


def sdk(url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=url + "/v1", api_key="x", max_retries=0)


async def test_stream_and_non_stream_through_router(router_factory, start_service) -> None:
    router, _ = await router_with_webai(router_factory, start_service, "FixedText")
    client = sdk(router.url)
    whole = await client.chat.completions.create(model="gpt-webai", messages=MESSAGES)
    assert whole.choices[0].message.content == "Hello, world"
    stream = await client.chat.completions.create(model="gpt-webai", messages=MESSAGES, stream=True)
    pieces = [c.choices[0].delta.content async for c in stream if c.choices]
    assert "".join(p or "" for p in pieces) == "Hello, world"
    models = {m.id async for m in client.models.list()}
    assert "gpt-webai" in models


async def test_fallback_across_g4f_providers(router_factory, start_service) -> None:
    router, _ = await router_with_webai(router_factory, start_service, "Broken", "FixedText")
    reply = await sdk(router.url).chat.completions.create(model="gpt-webai", messages=MESSAGES)
    assert reply.choices[0].message.content == "Hello, world"


async def test_all_failing_is_502_with_reasons(router_factory, start_service) -> None:
    router, _ = await router_with_webai(router_factory, start_service, "Broken", "AlsoBroken")
    with pytest.raises(openai.APIStatusError) as caught:
        await sdk(router.url).chat.completions.create(model="gpt-webai", messages=MESSAGES)
    assert caught.value.status_code == 502
    message = caught.value.body["message"]
    assert "Broken" in message and "AlsoBroken" in message


async def test_timeout_is_504(router_factory, start_service) -> None:
    router, _ = await router_with_webai(router_factory, start_service, "Hang", service_timeout=0.5)
    with pytest.raises(openai.APIStatusError) as caught:
        await sdk(router.url).chat.completions.create(model="gpt-webai", messages=MESSAGES)
    assert caught.value.status_code == 504


async def test_webai_is_last_fallback_of_other_models(router_factory, start_service) -> None:
    async with OpenAIFake() as fake:
        fake.script.always(Status(500))
        service = await start_service("FixedText")
        config = {
            "routing": {"retry-backoff": 0.01},
            "providers": [provider("primary", fake.base_url + "/v1", [fake.key], ["gpt-4o"])],
            "webai": webai_section(
                service, "FixedText", **{"fallback-for": {"gpt-*": "gpt-webai"}}
            ),
        }
        router = await router_factory(config)
        reply = await sdk(router.url).chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert reply.choices[0].message.content == "Hello, world"
        assert len(fake.requests) == 1


async def test_client_disconnect_cancels_the_generation(router_factory, start_service) -> None:
    router, _ = await router_with_webai(router_factory, start_service, "SlowStream")
    body = {"model": "gpt-webai", "messages": MESSAGES, "stream": True}
    async with aiohttp.ClientSession() as http:
        response = await http.post(router.url + "/v1/chat/completions", json=body)
        assert response.status == 200
        await response.content.readline()
        response.close()
    assert await wait_until(
        lambda: (
            "SlowStream:cancelled" in g4f_test_providers.EVENTS
            or "SlowStream:closed" in g4f_test_providers.EVENTS
        ),
        within=2.0,
    )
    assert "SlowStream:finished" not in g4f_test_providers.EVENTS


async def test_health_shows_webai_up_down_and_disabled(router_factory, start_service) -> None:
    router, _ = await router_with_webai(router_factory, start_service, "FixedText")
    async with aiohttp.ClientSession() as http:
        async with http.get(router.url + "/v1/health", headers=health_headers(router)) as response:
            health = await response.json()
        assert health["services"]["webai"]["status"] == "up"
        assert health["providers"]["webai"]["status"] == "healthy"
        assert KEY not in await response.text()
        down = await router_factory({"webai": webai_section("http://127.0.0.1:9", "FixedText")})
        async with http.get(down.url + "/v1/health", headers=health_headers(down)) as response:
            health = await response.json()
        assert health["services"]["webai"]["status"] == "down"
        assert "not reachable" in health["services"]["webai"]["reason"]
        # The provider view agrees with the service view.
        assert health["providers"]["webai"]["status"] == "down"
        assert "not reachable" in health["providers"]["webai"]["reason"]
        disabled = await router_factory({})
        async with http.get(
            disabled.url + "/v1/health", headers=health_headers(disabled)
        ) as response:
            assert (await response.json())["services"]["webai"] == {"status": "disabled"}
