"""The client side: SDK compatibility, keys, errors in OpenAI shape, models, health, ids."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import openai
import pytest

from tests.conftest import StartRouter, health_headers, provider
from tests.fakes.behaviours import Reply, Stream
from tests.fakes.openai import OpenAIFake

MESSAGES = [{"role": "user", "content": "hello there"}]


def one_provider(fake: OpenAIFake, **top: object) -> dict:
    return {
        "providers": [
            provider(
                "up",
                fake.base_url + "/v1",
                [fake.key],
                [{"name": "gpt-4o-mini", "aliases": ["fast"]}, "gpt-4o"],
            )
        ],
        **top,
    }


async def test_async_sdk_non_stream_and_alias(router_factory: StartRouter, openai_fake) -> None:
    router = await router_factory(one_provider(openai_fake))
    client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused")
    reply = await client.chat.completions.create(model="fast", messages=MESSAGES)
    assert reply.choices[0].message.content == "echo: hello there"
    received = openai_fake.last_request
    assert received.json["model"] == "gpt-4o-mini"
    assert received.headers["Authorization"] == f"Bearer {openai_fake.key}"


async def test_async_sdk_stream(router_factory: StartRouter, openai_fake) -> None:
    router = await router_factory(one_provider(openai_fake))
    openai_fake.script.push(Stream(chunks=20, interval=0.001))
    client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused")
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        usage = chunk.usage or usage
    assert text == " ".join(f"w{i}" for i in range(20))
    assert usage is not None and usage.completion_tokens > 0


async def test_sync_sdk_stream_and_non_stream(router_factory: StartRouter, openai_fake) -> None:
    router = await router_factory(one_provider(openai_fake))

    def use_sync_client() -> tuple[str, str]:
        client = openai.OpenAI(base_url=router.url + "/v1", api_key="unused")
        whole = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        parts = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        streamed = "".join(c.choices[0].delta.content or "" for c in parts if c.choices)
        return whole.choices[0].message.content or "", streamed

    whole, streamed = await asyncio.to_thread(use_sync_client)
    assert whole == "echo: hello there"
    assert streamed == "echo: hello there"


@pytest.mark.parametrize(
    ("where", "expected_status"),
    [("bearer", 200), ("x-api-key", 200), ("x-goog-api-key", 200), ("query", 200), ("none", 401)],
)
async def test_client_key_locations(
    router_factory: StartRouter, openai_fake, where: str, expected_status: int
) -> None:
    router = await router_factory(one_provider(openai_fake, **{"api-keys": ["client-secret"]}))
    headers, params = {}, {}
    if where == "bearer":
        headers["Authorization"] = "Bearer client-secret"
    elif where in ("x-api-key", "x-goog-api-key"):
        headers[where] = "client-secret"
    elif where == "query":
        params["key"] = "client-secret"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            router.url + "/v1/chat/completions",
            json={"model": "gpt-4o", "messages": MESSAGES},
            headers=headers,
            params=params,
        ) as response:
            assert response.status == expected_status
            body = await response.json()
    if expected_status == 401:
        assert body["error"]["type"] == "authentication_error"
        assert "missing API key" in body["error"]["message"]


async def test_wrong_key_is_403_and_health_stays_public(
    router_factory: StartRouter, openai_fake
) -> None:
    router = await router_factory(one_provider(openai_fake, **{"api-keys": ["client-secret"]}))
    client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.body["message"].startswith("invalid API key: use one of the api-keys")
    assert openai_fake.requests == []
    async with aiohttp.ClientSession() as http, http.get(router.url + "/v1/health") as response:
        assert response.status == 200


async def _post(url: str, data: bytes, headers: dict[str, str] | None = None):
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/v1/chat/completions", data=data, headers=headers) as response:
            return response.status, await response.json(), response.headers


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "'model' is required"),
        (b'{"model": "gpt-4o", "messages": []}', "'messages' is required"),
    ],
)
async def test_bad_bodies_are_400(
    router_factory: StartRouter, openai_fake, body: bytes, fragment: str
) -> None:
    router = await router_factory(one_provider(openai_fake))
    status, answer, headers = await _post(router.url, body)
    assert status == 400
    assert fragment in answer["error"]["message"]
    assert answer["error"]["type"] == "invalid_request_error"
    assert len(headers["X-Request-Id"]) == 16
    assert openai_fake.requests == []


async def test_unknown_model_is_404_saying_how_to_add_it(
    router_factory: StartRouter, openai_fake
) -> None:
    router = await router_factory(one_provider(openai_fake))
    client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="nope", messages=MESSAGES)
    assert "add it to a provider's 'models' list" in caught.value.body["message"]


async def test_body_over_limit_is_413(router_factory: StartRouter, openai_fake) -> None:
    router = await router_factory(one_provider(openai_fake, **{"body-limit-mb": 0.01}))
    big = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "' + b"x" * 20000 + b'"}]}'
    status, answer, _ = await _post(router.url, big)
    assert status == 413
    assert "body-limit-mb" in answer["error"]["message"]
    assert openai_fake.requests == []


async def test_unknown_route_is_openai_shaped_404(router_factory: StartRouter, openai_fake) -> None:
    router = await router_factory(one_provider(openai_fake))
    async with aiohttp.ClientSession() as http, http.get(router.url + "/v1/nothing") as response:
        assert response.status == 404
        assert "error" in await response.json()


async def test_upstream_client_error_passes_through(
    router_factory: StartRouter, openai_fake
) -> None:
    router = await router_factory(one_provider(openai_fake))
    client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "wizard", "content": "x"}]
        )
    assert caught.value.status_code == 400
    assert len(openai_fake.requests) == 1


async def test_models_lists_names_and_aliases_in_both_shapes(
    router_factory: StartRouter, openai_fake
) -> None:
    router = await router_factory(one_provider(openai_fake))
    client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="x")
    ids = {model.id async for model in client.models.list()}
    assert ids == {"gpt-4o-mini", "fast", "gpt-4o"}
    async with aiohttp.ClientSession() as http:
        headers = {"anthropic-version": "2023-06-01"}
        async with http.get(router.url + "/v1/models", headers=headers) as response:
            listing = await response.json()
    assert {m["id"] for m in listing["data"]} == ids
    assert listing["has_more"] is False and all(m["type"] == "model" for m in listing["data"])


async def test_health_reports_providers_without_secrets(
    router_factory: StartRouter, openai_fake
) -> None:
    config = one_provider(openai_fake)
    config["providers"].append(
        provider("nokey", "http://127.0.0.1:9/v1", ["${MISSING_KEY}"], ["other"])
    )
    router = await router_factory(config)
    async with (
        aiohttp.ClientSession() as http,
        http.get(router.url + "/v1/health", headers=health_headers(router)) as response,
    ):
        health = await response.json()
        text = await response.text()
    assert openai_fake.key not in text
    assert health["version"] and health["uptime_s"] >= 0
    assert health["providers"]["up"]["status"] == "healthy"
    nokey = health["providers"]["nokey"]
    assert nokey["configured"] is False and nokey["status"] == "unconfigured"
    assert "MISSING_KEY" in nokey["reason"]
    assert health["status"] == "degraded"


async def test_missing_credential_gives_403_naming_the_fix(router_factory: StartRouter) -> None:
    """Retrying cannot fix a missing key, so the status is one SDKs do not retry."""
    config = {"providers": [provider("nokey", "http://127.0.0.1:9/v1", ["${MISSING}"], ["m"])]}
    router = await router_factory(config)
    status, answer, _ = await _post(
        router.url, b'{"model": "m", "messages": [{"role": "user", "content": "x"}]}'
    )
    assert status == 403
    assert answer["error"]["type"] == "permission_error"
    assert "MISSING is not set" in answer["error"]["message"]


async def test_one_log_line_per_request_with_id_and_no_secret(
    router_factory: StartRouter, openai_fake, caplog: pytest.LogCaptureFixture
) -> None:
    router = await router_factory(one_provider(openai_fake, **{"api-keys": ["client-secret"]}))
    openai_fake.script.push(Reply(text="fine"))
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            router.url + "/v1/chat/completions",
            json={"model": "fast", "messages": MESSAGES},
            headers={"Authorization": "Bearer client-secret"},
        ) as response:
            request_id = response.headers["X-Request-Id"]
            await response.read()
    lines = [r for r in caplog.records if r.name == "router.request"]
    assert len(lines) == 1
    fields = lines[0].fields
    assert fields["request_id"] == request_id
    assert fields["status"] == 200 and fields["provider"] == "up"
    assert fields["credential"] == "key1" and fields["key"] == "key1"
    assert fields["model"] == "fast" and fields["upstream_model"] == "gpt-4o-mini"
    assert fields["tokens_in"] > 0 and fields["tokens_out"] > 0
    assert "ttfb_ms" in fields and "latency_ms" in fields
    everything = " ".join(str(r.__dict__) for r in caplog.records)
    assert "client-secret" not in everything and openai_fake.key not in everything
