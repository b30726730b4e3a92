"""Several accounts of one subscription: round-robin, per-account cooldowns, reset."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import anthropic
import pytest

from router.credentials import CredentialStore
from tests.conftest import StartRouter, health_headers
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.behaviours import Reply, Status

MODEL = "claude-haiku-4-5-20251001"
ACCOUNTS = ("ada", "bob", "cy")


async def three_accounts(
    router_factory: StartRouter, fake: AnthropicFake, tmp_path: Path, **routing: object
) -> str:
    store = CredentialStore(tmp_path / "auth")
    fake.oauth_tokens[:] = [f"sk-ant-oat01-{name}" for name in ACCOUNTS]
    for name in ACCOUNTS:
        store.save(
            "claude",
            f"claude-{name}",
            {
                "access_token": f"sk-ant-oat01-{name}",
                "refresh_token": f"sk-ant-ort01-{name}",
                "expires_at": time.time() + 86400,
                "email": f"{name}@example.com",
            },
        )
    config = {
        "subscriptions": {"claude": {"api-base": fake.base_url, "refresh-ahead": 60}},
        "routing": {"retry-backoff": 0, **routing},
    }
    return (await router_factory(config)).url


def tokens_sent(fake: AnthropicFake) -> list[str]:
    return [
        r.headers["Authorization"].removeprefix("Bearer sk-ant-oat01-")
        for r in fake.requests
        if r.path == "/v1/messages"
    ]


async def ask(client: anthropic.AsyncAnthropic) -> str:
    answer = await client.messages.create(
        model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}]
    )
    return answer.content[0].text


async def test_round_robin_across_three_accounts(
    router_factory: StartRouter, anthropic_fake: AnthropicFake, tmp_path: Path
) -> None:
    url = await three_accounts(router_factory, anthropic_fake, tmp_path)
    client = anthropic.AsyncAnthropic(base_url=url, api_key="unused")
    for i in range(6):
        anthropic_fake.script.push(Reply(text=f"answer {i}"))
        assert await ask(client) == f"answer {i}"
    sent = tokens_sent(anthropic_fake)
    assert sorted(sent[:3]) == sorted(ACCOUNTS) and sent[3:] == sent[:3]


async def test_a_limited_account_rests_and_the_others_serve(
    router_factory: StartRouter, anthropic_fake: AnthropicFake, tmp_path: Path
) -> None:
    url = await three_accounts(router_factory, anthropic_fake, tmp_path, strategy="fill-first")
    client = anthropic.AsyncAnthropic(base_url=url, api_key="unused", max_retries=0)
    anthropic_fake.script.push(Status(429, "usage limit reached"))
    anthropic_fake.script.push(Reply(text="from bob"))
    assert await ask(client) == "from bob"
    anthropic_fake.script.push(Reply(text="bob again"))
    assert await ask(client) == "bob again"
    assert tokens_sent(anthropic_fake) == ["ada", "bob", "bob"]
    async with (
        aiohttp.ClientSession() as http,
        http.get(url + "/v1/management/cooldowns") as response,
    ):
        resting = (await response.json())["cooldowns"]["llmux-claude"]
    # No Retry-After: the configured quota rest (routing.cooldown.quota, 60 s).
    assert [(c["credential"], c["remaining_s"] > 55) for c in resting] == [("claude-ada", True)]


async def test_every_account_limited_gives_429_with_the_earliest_return(
    router_factory: StartRouter, anthropic_fake: AnthropicFake, tmp_path: Path
) -> None:
    url = await three_accounts(router_factory, anthropic_fake, tmp_path)
    client = anthropic.AsyncAnthropic(base_url=url, api_key="unused", max_retries=0)
    for retry_after in (300, 40, 900):
        anthropic_fake.script.push(Status(429, "rate limited", retry_after=retry_after))
    with pytest.raises(anthropic.RateLimitError) as limited:
        await ask(client)
    assert 38 <= int(limited.value.response.headers["Retry-After"]) <= 40
    assert "the first one is back in" in limited.value.message
    with pytest.raises(anthropic.RateLimitError):
        await ask(client)
    assert len(tokens_sent(anthropic_fake)) == 3  # all resting: nothing sent
    async with (
        aiohttp.ClientSession() as http,
        http.post(url + "/v1/management/cooldowns/reset?provider=llmux-claude") as response,
    ):
        assert (await response.json())["cleared"] == 3
    anthropic_fake.script.push(Reply(text="back"))
    assert await ask(client) == "back"


async def test_health_shows_accounts_without_tokens(
    router_factory: StartRouter, anthropic_fake: AnthropicFake, tmp_path: Path
) -> None:
    url = await three_accounts(router_factory, anthropic_fake, tmp_path)
    headers = health_headers(tmp_path / "auth")
    async with (
        aiohttp.ClientSession() as http,
        http.get(url + "/v1/health", headers=headers) as response,
    ):
        health = await response.json()
    claude = health["providers"]["llmux-claude"]
    assert claude["status"] == "healthy"
    assert [a["label"] for a in claude["accounts"]] == [f"{n}@example.com" for n in ACCOUNTS]
    assert all(a["state"] == "ok" and "expires_at" in a for a in claude["accounts"])
    chatgpt = health["providers"]["llmux-chatgpt"]
    assert chatgpt["status"] == "not_logged_in" and chatgpt["accounts"] == []
    assert "login.sh chatgpt" in chatgpt["reason"]
    assert health["status"] == "ok"
    assert "sk-ant-o" not in str(health)


async def test_models_of_a_subscription_are_listed_once_an_account_exists(
    router_factory: StartRouter, tmp_path: Path
) -> None:
    router = await router_factory({})
    models_url = router.url + "/v1/models"
    async with aiohttp.ClientSession() as http, http.get(models_url) as response:
        before = {m["id"] for m in (await response.json())["data"]}
    assert "ctonew-gpt-5" not in before
    CredentialStore(tmp_path / "auth").save("ctonew", "ctonew-a", {"client_cookie": "x"})
    await asyncio.sleep(1.1)  # the store rescans at most once a second
    async with aiohttp.ClientSession() as http, http.get(models_url) as response:
        after = {m["id"] for m in (await response.json())["data"]}
    assert {"ctonew-gpt-5", "ctonew-claude-sonnet"} <= after
