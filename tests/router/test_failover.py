"""Failover before the first byte, cooldowns, Retry-After, and credential strategies."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import openai
import pytest

from router.server import RunningRouter
from tests.conftest import StartRouter, health_headers, provider
from tests.fakes.behaviours import Drop, Hang, Reply, Status, Stream
from tests.fakes.openai import OpenAIFake

MESSAGES = [{"role": "user", "content": "hi"}]
FAST_RETRY = {"retry-backoff": 0.01, "max-retries": 2}


def client(url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=url + "/v1", api_key="x", max_retries=0)


async def health(router: RunningRouter) -> dict:
    async with (
        aiohttp.ClientSession() as http,
        http.get(router.url + "/v1/health", headers=health_headers(router)) as response,
    ):
        return await response.json()


@pytest.fixture
async def second_fake():
    async with OpenAIFake() as fake:
        yield fake


def two_providers(first: OpenAIFake, second: OpenAIFake, **routing: object) -> dict:
    return {
        "routing": {**FAST_RETRY, **routing},
        "providers": [
            provider("first", first.base_url + "/v1", [first.key], ["m"]),
            provider("second", second.base_url + "/v1", [second.key], ["m"]),
        ],
    }


@pytest.mark.parametrize("failure", [Status(500), Status(503), Status(408), Status(401), Drop()])
async def test_failure_before_first_byte_moves_to_next_provider(
    router_factory: StartRouter, openai_fake, second_fake, failure
) -> None:
    router = await router_factory(two_providers(openai_fake, second_fake))
    openai_fake.script.push(failure)
    second_fake.script.push(Reply(text="from second"))
    reply = await client(router.url).chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "from second"
    state = (await health(router))["providers"]["first"]
    assert state["cooldowns"] and state["cooldowns"][0]["credential"] == "key1"


async def test_stream_fails_over_before_first_byte(
    router_factory: StartRouter, openai_fake, second_fake
) -> None:
    router = await router_factory(two_providers(openai_fake, second_fake))
    openai_fake.script.push(Status(502))
    second_fake.script.push(Stream(chunks=3))
    stream = await client(router.url).chat.completions.create(
        model="m", messages=MESSAGES, stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "w0 w1 w2"


async def test_cooling_provider_is_skipped_then_returns(
    router_factory: StartRouter, openai_fake, second_fake
) -> None:
    config = two_providers(openai_fake, second_fake, cooldown={"initial": 0.3})
    router = await router_factory(config)
    openai_fake.script.push(Status(500))
    sdk = client(router.url)
    await sdk.chat.completions.create(model="m", messages=MESSAGES)
    await sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert len(openai_fake.requests) == 1 and len(second_fake.requests) == 2
    await asyncio.sleep(0.35)
    await sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert len(openai_fake.requests) == 2


async def test_all_cooling_is_429_with_retry_after(
    router_factory: StartRouter, openai_fake
) -> None:
    config = {
        "routing": FAST_RETRY,
        "providers": [provider("only", openai_fake.base_url + "/v1", [openai_fake.key], ["m"])],
    }
    router = await router_factory(config)
    openai_fake.script.push(Status(429, retry_after=30))
    sdk = client(router.url)
    with pytest.raises(openai.RateLimitError) as first:
        await sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert int(first.value.response.headers["Retry-After"]) == 30
    with pytest.raises(openai.RateLimitError) as second:
        await sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert 28 <= int(second.value.response.headers["Retry-After"]) <= 30
    assert "cooling down" in second.value.body["message"]
    assert len(openai_fake.requests) == 1
    cooldown = (await health(router))["providers"]["only"]
    assert cooldown["status"] == "cooling_down"
    assert 28 < cooldown["cooldowns"][0]["remaining_s"] <= 30


async def test_unreachable_is_502_and_timeout_is_504(
    router_factory: StartRouter, openai_fake
) -> None:
    config = {
        "routing": {**FAST_RETRY, "max-retries": 0},
        "providers": [
            provider("gone", "http://127.0.0.1:9/v1", ["k"], ["down"]),
            provider(
                "slow",
                openai_fake.base_url + "/v1",
                [openai_fake.key],
                ["slow"],
                timeouts={"first-byte": 0.3},
            ),
        ],
    }
    router = await router_factory(config)
    openai_fake.script.push(Hang())
    sdk = client(router.url)
    with pytest.raises(openai.APIStatusError) as unreachable:
        await sdk.chat.completions.create(model="down", messages=MESSAGES)
    assert unreachable.value.status_code == 502
    assert "unreachable" in unreachable.value.body["message"]
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as timed_out:
        await sdk.chat.completions.create(model="slow", messages=MESSAGES)
    assert timed_out.value.status_code == 504
    assert time.monotonic() - started < 2
    await openai_fake.wait_for_disconnect(1, timeout=2)


async def test_retry_count_bounds_attempts(router_factory: StartRouter, openai_fake) -> None:
    keys = [{"name": f"k{i}", "key": openai_fake.key} for i in range(5)]
    config = {
        "routing": {**FAST_RETRY, "max-retries": 2},
        "providers": [provider("p", openai_fake.base_url + "/v1", keys, ["m"])],
    }
    router = await router_factory(config)
    openai_fake.script.always(Status(500))
    with pytest.raises(openai.APIStatusError) as caught:
        await client(router.url).chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.status_code == 502
    assert len(openai_fake.requests) == 3


async def test_nothing_is_retried_after_the_first_byte(
    router_factory: StartRouter, openai_fake, second_fake
) -> None:
    router = await router_factory(two_providers(openai_fake, second_fake))
    openai_fake.script.push(Drop(after_chunks=2))
    stream = await client(router.url).chat.completions.create(
        model="m", messages=MESSAGES, stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in stream:
            if chunk.choices:
                received.append(chunk.choices[0].delta.content)
    assert "mid-stream" in str(caught.value)
    assert "w0" in received
    assert len(second_fake.requests) == 0


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("round-robin", ["ka", "kb", "kc", "ka"]), ("fill-first", ["ka", "ka", "ka", "ka"])],
)
async def test_credential_strategies(
    router_factory: StartRouter, strategy: str, expected: list[str]
) -> None:
    async with OpenAIFake(keys=["ka", "kb", "kc"]) as fake:
        keys = [{"name": n, "key": f"k{n}"} for n in "abc"]
        config = {
            "routing": {"strategy": strategy},
            "providers": [provider("p", fake.base_url + "/v1", keys, ["m"])],
        }
        router = await router_factory(config)
        sdk = client(router.url)
        for _ in range(4):
            await sdk.chat.completions.create(model="m", messages=MESSAGES)
        used = [r.headers["Authorization"].removeprefix("Bearer ") for r in fake.requests]
    assert used == expected


async def test_fill_first_moves_on_when_first_credential_fails(router_factory: StartRouter) -> None:
    async with OpenAIFake(keys=["kb"]) as fake:
        keys = [{"name": "a", "key": "ka-revoked"}, {"name": "b", "key": "kb"}]
        config = {
            "routing": {"strategy": "fill-first", **FAST_RETRY},
            "providers": [provider("p", fake.base_url + "/v1", keys, ["m"])],
        }
        router = await router_factory(config)
        sdk = client(router.url)
        await sdk.chat.completions.create(model="m", messages=MESSAGES)
        await sdk.chat.completions.create(model="m", messages=MESSAGES)
        used = [r.headers["Authorization"].removeprefix("Bearer ") for r in fake.requests]
        cooling = (await health(router))["providers"]["p"]["cooldowns"]
    assert used == ["ka-revoked", "kb", "kb"]
    assert cooling[0]["credential"] == "a" and cooling[0]["model"] == "*"
    assert cooling[0]["remaining_s"] > 1000


async def test_routes_pin_credentials_and_patterns(
    router_factory: StartRouter, openai_fake, second_fake
) -> None:
    config = {
        "providers": [
            provider(
                "first",
                openai_fake.base_url + "/v1",
                [{"name": "main", "key": openai_fake.key}],
                [],
            ),
            provider("second", second_fake.base_url + "/v1", [second_fake.key], []),
        ],
        "routes": [
            {"model": "re:^o[0-9]", "providers": ["second"]},
            {"model": "gpt-*", "providers": ["first/main", "second"]},
        ],
    }
    router = await router_factory(config)
    sdk = client(router.url)
    await sdk.chat.completions.create(model="gpt-anything", messages=MESSAGES)
    await sdk.chat.completions.create(model="o3", messages=MESSAGES)
    assert [r.json["model"] for r in openai_fake.requests] == ["gpt-anything"]
    assert [r.json["model"] for r in second_fake.requests] == ["o3"]
