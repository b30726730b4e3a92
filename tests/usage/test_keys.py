"""Client keys issued by cliproxy: created once, stored hashed, limited, revoked."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.conftest import StartRouter
from tests.fakes.behaviours import Reply, Stream, Usage
from tests.usage.conftest import KEYS, Client, start_usage_router

REPO = Path(__file__).resolve().parents[2]


async def create(http: aiohttp.ClientSession, url: str, **body: Any) -> dict[str, Any]:
    async with http.post(url + "/v1/management/keys", json=body) as response:
        assert response.status == 201, await response.text()
        return await response.json()


@pytest.fixture
async def router(router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake):
    return await start_usage_router(router_factory, openai_fake, anthropic_fake, gemini_fake)


async def test_created_key_is_shown_once_stored_hashed_and_works(router, http, tmp_path) -> None:
    created = await create(http, router.url, name="carol")
    secret = created["key"]
    assert secret.startswith("sk-cliproxy-") and len(secret) > 50
    stored = tmp_path / "client-keys.json"
    assert os.stat(stored).st_mode & 0o777 == 0o600
    assert secret not in stored.read_text()
    async with http.get(router.url + "/v1/management/keys") as response:
        listing = await response.text()
    assert secret not in listing and "sha256" not in listing
    assert json.loads(listing)["config_keys"] == ["alice", "bob"]
    client = Client(router.url, http)
    assert await client.chat(secret, "gpt-4o") == 200
    assert await client.chat(KEYS["alice"], "gpt-4o") == 200  # config keys keep working
    assert await client.chat("sk-cliproxy-" + "x" * 43, "gpt-4o") == 403
    rows = await (await http.get(router.url + "/v1/management/usage?group=key")).json()
    assert {r["key"]: r["requests"] for r in rows["rows"]} == {"alice": 1, "carol": 1}
    async with http.post(router.url + "/v1/management/keys", json={"name": "alice"}) as response:
        assert response.status == 400
        assert "already exists" in (await response.json())["error"]["message"]


def _429_message(fmt: str, body: dict[str, Any]) -> str:
    if fmt == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
        return body["error"]["message"]
    if fmt == "gemini":
        assert body["error"]["code"] == 429 and body["error"]["status"] == "RESOURCE_EXHAUSTED"
        return body["error"]["message"]
    assert body["error"]["type"] in ("rate_limit_error", "rate_limit_exceeded")
    return body["error"]["message"]


REQUESTS = {
    "openai-chat": ("/v1/chat/completions", {"model": "gpt-4o", "messages": [
        {"role": "user", "content": "hi"}]}),
    "openai-responses": ("/v1/responses", {"model": "gpt-4o", "input": "hi"}),
    "anthropic": ("/v1/messages", {"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": [
        {"role": "user", "content": "hi"}]}),
    "gemini": ("/v1beta/models/gemini-2.5-flash:generateContent", {"contents": [
        {"role": "user", "parts": [{"text": "hi"}]}]}),
}  # fmt: skip


async def test_over_budget_is_a_429_in_each_format_with_the_reset_time(
    router, http, openai_fake
) -> None:
    created = await create(http, router.url, name="dave", limits={"tokens_per_day": 100})
    client = Client(router.url, http)
    openai_fake.script.push(Reply(usage=Usage(80, 30)))
    assert await client.chat(created["key"], "gpt-4o") == 200
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    for fmt, (path, body) in REQUESTS.items():
        headers = {"Authorization": f"Bearer {created['key']}"}
        async with http.post(router.url + path, json=body, headers=headers) as response:
            assert response.status == 429, fmt
            message = _429_message(fmt, await response.json())
            retry_after = int(response.headers["Retry-After"])
        assert "budget tokens-per-day (110 of 100 tokens used)" in message, message
        assert f"resets at {tomorrow}" in message
        assert 0 < retry_after <= 86400
    listing = await (await http.get(router.url + "/v1/management/keys")).json()
    assert listing["keys"][0]["used"]["tokens_today"] == 110


async def test_rate_limit_names_the_limit_and_when_it_resets(router, http) -> None:
    created = await create(http, router.url, name="erin", limits={"requests_per_minute": 2})
    client = Client(router.url, http)
    assert [await client.chat(created["key"], "gpt-4o") for _ in range(3)] == [200, 200, 429]
    async with http.get(router.url + "/metrics") as response:
        assert 'cliproxy_client_key_rejections_total{key="erin",status="429"} 1.0' in (
            await response.text()
        )
    async with http.post(
        router.url + "/v1/messages",
        json=REQUESTS["anthropic"][1],
        headers={"x-api-key": created["key"]},
    ) as response:
        message = _429_message("anthropic", await response.json())
        assert "rate limit of 2 requests per minute" in message
        assert 50 <= int(response.headers["Retry-After"]) <= 60


async def test_revoked_key_gets_403_and_its_running_stream_finishes(
    router, http, openai_fake
) -> None:
    created = await create(http, router.url, name="frank")
    openai_fake.script.push(Stream(chunks=6, interval=0.1))
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"Authorization": f"Bearer {created['key']}"}
    async with http.post(router.url + "/v1/chat/completions", json=body, headers=headers) as r:
        assert r.status == 200
        first = await r.content.readline()
        assert first.startswith(b"data:")
        async with http.delete(router.url + "/v1/management/keys/frank") as revoked:
            assert revoked.status == 200 and (await revoked.json())["revoked_at"] is not None
        rest = await r.read()
    text = (first + rest).decode()
    assert text.rstrip().endswith("data: [DONE]")
    assert "w5" in text
    async with http.post(router.url + "/v1/chat/completions", json=body, headers=headers) as r:
        assert r.status == 403
        assert "'frank' was revoked" in (await r.json())["error"]["message"]


async def test_allowed_models_and_expiry(router, http) -> None:
    limited = await create(http, router.url, name="gina", models=["gpt-4o-*"])
    client = Client(router.url, http)
    assert await client.chat(limited["key"], "gpt-4o-mini") == 200
    headers = {"Authorization": f"Bearer {limited['key']}"}
    async with http.post(router.url + "/v1/chat/completions", headers=headers,
                         json=REQUESTS["openai-chat"][1]) as response:  # fmt: skip
        assert response.status == 403
        assert "may not use model 'gpt-4o'" in (await response.json())["error"]["message"]
    soon = await create(http, router.url, name="hank", expires_at=time.time() + 1)
    assert await client.chat(soon["key"], "gpt-4o") == 200
    await asyncio.sleep(1.1)
    assert await client.chat(soon["key"], "gpt-4o") == 403
    async with http.post(
        router.url + "/v1/management/keys", json={"name": "ivy", "limits": {"tokens_per_day": -1}}
    ) as response:
        assert response.status == 400
        assert "limits.tokens_per_day: expected a number > 0" in await response.text()


async def test_issued_keys_alone_close_the_door_to_anonymous_clients(
    router_factory: StartRouter, openai_fake, http
) -> None:
    config = {"providers": [{"name": "up", "base-url": openai_fake.base_url + "/v1",
                             "api-keys": [openai_fake.key], "models": ["gpt-4o"]}]}  # fmt: skip
    router = await router_factory(config)
    client = Client(router.url, http)
    assert await client.chat("", "gpt-4o") == 200
    created = await create(http, router.url, name="jane")
    assert await client.chat("", "gpt-4o") == 401
    assert await client.chat(created["key"], "gpt-4o") == 200


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``cliproxy keys ...``, the command users type (it runs ``python -m router keys``)."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "cliproxy"), "keys", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


async def test_cli_create_list_revoke_reach_a_running_router(router, http, tmp_path) -> None:
    config = str(tmp_path / "config0.yaml")
    created = await asyncio.to_thread(
        _cli, "--config", config, "create", "kim", "--rpm", "30", "--model", "gpt-4o*"
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("sk-cliproxy-") and "not shown again" in created.stderr
    listed = await asyncio.to_thread(_cli, "--config", config, "list")
    assert listed.stdout.startswith("kim active prefix=sk-cliproxy-")
    assert "requests_per_minute=30" in listed.stdout and secret not in listed.stdout
    client = Client(router.url, http)
    await asyncio.sleep(1.1)  # the router re-reads the key file at most once a second
    assert await client.chat(secret, "gpt-4o") == 200
    revoked = await asyncio.to_thread(_cli, "--config", config, "revoke", "kim")
    assert revoked.returncode == 0 and revoked.stdout.strip() == "revoked kim"
    await asyncio.sleep(1.1)
    assert await client.chat(secret, "gpt-4o") == 403
    duplicate = await asyncio.to_thread(_cli, "--config", config, "create", "alice")
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr


async def test_budget_spend_survives_a_restart(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    first = await start_usage_router(router_factory, openai_fake, anthropic_fake, gemini_fake)
    created = await create(http, first.url, name="lee", limits={"cost_per_month": 0.001})
    openai_fake.script.push(Reply(usage=Usage(1000, 100)))  # $0.0035 on gpt-4o
    assert await Client(first.url, http).chat(created["key"], "gpt-4o") == 200
    await first.stop()
    second = await start_usage_router(router_factory, openai_fake, anthropic_fake, gemini_fake)
    headers = {"Authorization": f"Bearer {created['key']}"}
    async with http.post(
        second.url + "/v1/chat/completions", json=REQUESTS["openai-chat"][1], headers=headers
    ) as response:
        assert response.status == 429
        message = (await response.json())["error"]["message"]
    assert "budget cost-per-month (0.0035 of 0.001 USD used)" in message


def test_issued_keys_alone_do_not_open_a_public_host_and_the_error_says_why(
    tmp_path: Path,
) -> None:
    """Revoking the last issued key would leave a public router open (no key is asked
    for when none is active), so only config api-keys unlock a non-loopback host."""
    config = tmp_path / "public.yaml"
    config.write_text(yaml.safe_dump({"host": "127.0.0.1", "auth-dir": str(tmp_path / "auth")}))
    assert _cli("--config", str(config), "create", "kim").returncode == 0
    config.write_text(yaml.safe_dump({"host": "0.0.0.0", "auth-dir": str(tmp_path / "auth")}))
    served = subprocess.run(
        [sys.executable, "-m", "router", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=30,
    )
    assert served.returncode == 2
    assert "refusing to serve '0.0.0.0' without api-keys" in served.stderr
    assert "revoking the last issued key would open it to anyone" in served.stderr
    assert "add one api-keys entry (for yourself) and issue keys to others" in served.stderr
