"""Issue 15 selection, end to end: provider-pinned names and weighted credentials."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import openai
import pytest

from tests.conftest import StartRouter, provider
from tests.fakes.openai import OpenAIFake

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def second_fake():
    async with OpenAIFake() as fake:
        yield fake


async def test_provider_prefixed_name_goes_to_that_provider_only(
    router_factory: StartRouter, openai_fake: OpenAIFake, second_fake: OpenAIFake
) -> None:
    router = await router_factory(
        {
            "providers": [
                provider("first", openai_fake.base_url + "/v1", [openai_fake.key], ["gpt-4o"]),
                provider(
                    "second",
                    second_fake.base_url + "/v1",
                    [second_fake.key],
                    ["gpt-4o", {"name": "gpt-4o-mini", "aliases": ["fast"]}],
                ),
            ]
        }
    )
    client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
    for _ in range(2):
        await client.chat.completions.create(model="second/gpt-4o", messages=MESSAGES)
    reply = await client.chat.completions.create(model="second/fast", messages=MESSAGES)
    assert reply.choices[0].message.content == "echo: hi"
    assert openai_fake.requests == []
    assert [r.json["model"] for r in second_fake.requests] == ["gpt-4o", "gpt-4o", "gpt-4o-mini"]
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.create(model="nobody/gpt-4o", messages=MESSAGES)


async def test_weighted_credentials_share_requests_by_weight(
    router_factory: StartRouter,
) -> None:
    async with OpenAIFake(keys=["sk-heavy", "sk-light"]) as fake:
        router = await router_factory(
            {
                "providers": [
                    provider(
                        "up",
                        fake.base_url + "/v1",
                        [
                            {"name": "heavy", "key": "sk-heavy", "weight": 3},
                            {"name": "light", "key": "sk-light"},
                        ],
                        ["m"],
                    )
                ]
            }
        )
        async with aiohttp.ClientSession() as session:

            async def one(n: int) -> None:
                # a conversation each: one conversation would stick to one credential
                body = {"model": "m", "messages": [{"role": "user", "content": f"hi {n}"}]}
                async with session.post(router.url + "/v1/chat/completions", json=body) as r:
                    assert r.status == 200

            for batch in range(10):
                await asyncio.gather(*(one(batch * 20 + i) for i in range(20)))
        keys = Counter(r.headers["Authorization"] for r in fake.requests)
        assert keys["Bearer sk-heavy"] == 150 and keys["Bearer sk-light"] == 50


async def test_weight_below_one_is_a_config_error(router_factory: StartRouter) -> None:
    from router.config import ConfigError

    with pytest.raises(ConfigError, match=r"providers\[0\]\.api-keys\[0\]\.weight"):
        await router_factory(
            {
                "providers": [
                    provider("up", "http://127.0.0.1:9/v1", [{"key": "k", "weight": 0}], [])
                ]
            }
        )
