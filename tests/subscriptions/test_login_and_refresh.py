"""Subscription logins and token refresh through a running router, against fake OAuth servers.

Covers the whole path a user takes: login URL -> sign-in at the (fake) provider ->
callback or pasted code -> credential file; then refresh ahead of expiry, refresh under
concurrency, 401 -> refresh -> retry, and that no token ever shows in a log or answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import pytest

from router.credentials import CredentialStore
from router.logs import LineFormatter
from tests.conftest import StartRouter, health_headers
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.behaviours import Reply
from tests.fakes.oauth import ClaudeOAuthFake, OpenAIOAuthFake

MODEL = "claude-haiku-4-5-20251001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def claude_oauth() -> AsyncIterator[ClaudeOAuthFake]:
    async with ClaudeOAuthFake(emails=("ada@example.com",)) as fake:
        yield fake


@pytest.fixture
async def openai_oauth() -> AsyncIterator[OpenAIOAuthFake]:
    async with OpenAIOAuthFake(emails=("grace@example.com",)) as fake:
        yield fake


def claude_section(oauth: ClaudeOAuthFake, api: AnthropicFake | None = None, **extra: Any):
    section = {
        "authorize-url": oauth.authorize_endpoint,
        "token-url": oauth.token_endpoint,
        "redirect-uri": f"http://localhost:{free_port()}/callback",
        **extra,
    }
    if api is not None:
        section["api-base"] = api.base_url
    return section


async def get_json(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(url, **kwargs) as response:
        return response.status, await response.json()


async def post(url: str, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body, **kwargs) as response:
        return response.status, await response.json()


async def test_full_claude_login_from_url_to_stored_file(
    router_factory: StartRouter, claude_oauth: ClaudeOAuthFake, tmp_path: Path
) -> None:
    router = await router_factory({"subscriptions": {"claude": claude_section(claude_oauth)}})
    status, started = await get_json(router.url + "/v1/auth/llmux/claude/login")
    assert status == 200 and started["listening_on_redirect"] is True
    code, state = await claude_oauth.authorize(started["url"])
    async with aiohttp.ClientSession() as http:
        # The browser lands on the redirect URI, where the router listens during the login.
        async with http.get(started["redirect_uri"], params={"code": code, "state": state}) as r:
            assert r.status == 200 and "Logged in as ada@example.com" in await r.text()
    path = tmp_path / "auth" / "claude-ada@example.com.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    grant = claude_oauth.last_grant
    assert stored["access_token"] == grant.access_token
    assert stored["refresh_token"] == grant.refresh_token
    assert stored["email"] == "ada@example.com" and stored["type"] == "claude"
    assert stored["expires_at"] == pytest.approx(time.time() + claude_oauth.expires_in, abs=30)
    body = claude_oauth.token_bodies("authorization_code")[0]
    assert body["state"] == state and body["redirect_uri"] == started["redirect_uri"]
    status, shown = await get_json(router.url + "/v1/auth/llmux/claude/status")
    assert status == 200 and shown["logged_in"] is True
    assert [a["label"] for a in shown["accounts"]] == ["ada@example.com"]
    assert grant.access_token not in json.dumps(shown)


async def test_headless_login_by_pasted_code_and_each_state_works_once(
    router_factory: StartRouter, claude_oauth: ClaudeOAuthFake, tmp_path: Path
) -> None:
    router = await router_factory({"subscriptions": {"claude": claude_section(claude_oauth)}})
    _, started = await get_json(router.url + "/v1/auth/llmux/claude/login")
    pasted = await claude_oauth.authorize_paste(started["url"])
    callback = router.url + "/v1/auth/llmux/claude/callback"
    status, answer = await post(callback, {"code": pasted})
    assert status == 200 and answer["label"] == "ada@example.com"
    assert (tmp_path / "auth" / "claude-ada@example.com.json").exists()
    status, again = await post(callback, {"code": pasted})
    assert status == 400 and "unknown or expired login state" in again["error"]["message"]
    status, _ = await post(callback, {"code": "abc#not-a-state"})
    assert status == 400


async def test_chatgpt_login_reads_the_account_id_from_the_id_token(
    router_factory: StartRouter, openai_oauth: OpenAIOAuthFake, tmp_path: Path
) -> None:
    section = {
        "authorize-url": openai_oauth.authorize_endpoint,
        "token-url": openai_oauth.token_endpoint,
        "redirect-uri": f"http://localhost:{free_port()}/auth/callback",
    }
    router = await router_factory({"subscriptions": {"chatgpt": section}})
    _, started = await get_json(router.url + "/v1/auth/llmux/chatgpt/login")
    assert "codex_cli_simplified_flow=true" in started["url"]
    code, state = await openai_oauth.authorize(started["url"])
    status, answer = await get_json(
        router.url + "/v1/auth/llmux/chatgpt/callback", params={"code": code, "state": state}
    )
    assert status == 200 and answer["label"] == "grace@example.com"
    stored = CredentialStore(tmp_path / "auth").get("chatgpt", answer["id"])
    assert stored is not None
    assert stored.data["account_id"] == openai_oauth.account.account_id
    assert stored.data["id_token"] == openai_oauth.last_grant.id_token
    status, removed = await get_json_delete(router.url + "/v1/auth/llmux/chatgpt")
    assert status == 200 and removed["removed"] == [answer["id"]]
    assert CredentialStore(tmp_path / "auth").list("chatgpt") == []


async def get_json_delete(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.delete(url) as response:
        return response.status, await response.json()


def save_claude(tmp_path: Path, access: str, refresh: str, expires_in: float, name: str = "ada"):
    CredentialStore(tmp_path / "auth").save(
        "claude",
        f"claude-{name}@example.com",
        {
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": time.time() + expires_in,
            "email": f"{name}@example.com",
        },
    )


async def logged_in(oauth: ClaudeOAuthFake) -> tuple[str, str]:
    """A real grant from the fake (as a login would get), without the router."""
    from tests.fakes.oauth import make_pkce

    verifier, challenge = make_pkce()
    url = (
        f"{oauth.authorize_endpoint}?code=true&client_id={oauth.client_id}&response_type=code"
        f"&redirect_uri=http://localhost:1/callback&scope=user:inference"
        f"&code_challenge={challenge}&code_challenge_method=S256&state=s1"
    )
    code, state = await oauth.authorize(url)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            oauth.token_endpoint,
            json={
                "grant_type": "authorization_code",
                "code": code,
                "state": state,
                "client_id": oauth.client_id,
                "redirect_uri": "http://localhost:1/callback",
                "code_verifier": verifier,
            },
        ) as response,
    ):
        tokens = await response.json()
    return tokens["access_token"], tokens["refresh_token"]


async def test_background_refresh_before_expiry(
    router_factory: StartRouter, claude_oauth: ClaudeOAuthFake, tmp_path: Path
) -> None:
    access, refresh = await logged_in(claude_oauth)
    save_claude(tmp_path, access, refresh, expires_in=600)
    section = claude_section(claude_oauth, **{"refresh-ahead": 3600, "refresh-check-interval": 0.1})
    await router_factory({"subscriptions": {"claude": section}})
    for _ in range(100):
        if claude_oauth.token_calls["refresh_token"]:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert claude_oauth.token_calls["refresh_token"] == 1
    stored = CredentialStore(tmp_path / "auth").get("claude", "claude-ada@example.com")
    assert stored.data["access_token"] == claude_oauth.last_grant.access_token != access
    assert stored.data["expires_at"] > time.time() + 3600


async def test_twenty_concurrent_requests_with_an_expired_token_refresh_once(
    router_factory: StartRouter,
    claude_oauth: ClaudeOAuthFake,
    anthropic_fake: AnthropicFake,
    tmp_path: Path,
) -> None:
    claude_oauth.on_issue = anthropic_fake.oauth_tokens.append
    claude_oauth.token_delay = 0.2
    access, refresh = await logged_in(claude_oauth)
    save_claude(tmp_path, access, refresh, expires_in=-10)
    router = await router_factory(
        {"subscriptions": {"claude": claude_section(claude_oauth, anthropic_fake)}}
    )
    for _ in range(20):
        anthropic_fake.script.push(Reply(text="ok"))
    client = anthropic.AsyncAnthropic(base_url=router.url, api_key="unused")
    answers = await asyncio.gather(
        *(
            client.messages.create(
                model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}]
            )
            for _ in range(20)
        )
    )
    assert [a.content[0].text for a in answers] == ["ok"] * 20
    assert claude_oauth.token_calls["refresh_token"] == 1
    new_token = claude_oauth.last_grant.access_token
    sent = [r.headers["Authorization"] for r in anthropic_fake.requests if r.path == "/v1/messages"]
    assert sent == [f"Bearer {new_token}"] * 20


async def test_a_401_refreshes_once_and_retries(
    router_factory: StartRouter,
    claude_oauth: ClaudeOAuthFake,
    anthropic_fake: AnthropicFake,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    claude_oauth.on_issue = anthropic_fake.oauth_tokens.append
    access, refresh = await logged_in(claude_oauth)
    anthropic_fake.oauth_tokens.remove(access)  # revoked upstream, though not yet expired
    save_claude(tmp_path, access, refresh, expires_in=3600)
    section = claude_section(claude_oauth, anthropic_fake, **{"refresh-ahead": 60})
    router = await router_factory({"subscriptions": {"claude": section}})
    anthropic_fake.script.push(Reply(text="after refresh"))
    client = anthropic.AsyncAnthropic(base_url=router.url, api_key="unused")
    answer = await client.messages.create(
        model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.content[0].text == "after refresh"
    assert claude_oauth.token_calls["refresh_token"] == 1
    sent = [r.headers["Authorization"] for r in anthropic_fake.requests if r.path == "/v1/messages"]
    assert sent == [f"Bearer {access}", f"Bearer {claude_oauth.last_grant.access_token}"]
    secrets = [access, refresh, claude_oauth.last_grant.access_token]
    secrets.append(claude_oauth.last_grant.refresh_token)
    _, health = await get_json(router.url + "/v1/health", headers=health_headers(router))
    _, shown = await get_json(router.url + "/v1/auth/llmux/claude/status")
    formatter = LineFormatter()
    log_lines = "\n".join(formatter.format(record) for record in caplog.records)
    assert "event=token_refreshed" in log_lines and "credential=claude-ada@example.com" in log_lines
    visible = log_lines + json.dumps(health) + json.dumps(shown) + answer.model_dump_json()
    assert not [s for s in secrets if s in visible]
    assert "ada@example.com" in json.dumps(shown)


async def test_a_refused_refresh_fails_over_with_the_login_command(
    router_factory: StartRouter,
    claude_oauth: ClaudeOAuthFake,
    anthropic_fake: AnthropicFake,
    tmp_path: Path,
) -> None:
    save_claude(tmp_path, "sk-ant-oat01-dead", "sk-ant-ort01-unknown", expires_in=-10)
    router = await router_factory(
        {"subscriptions": {"claude": claude_section(claude_oauth, anthropic_fake)}}
    )
    client = anthropic.AsyncAnthropic(base_url=router.url, api_key="unused", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as failed:
        await client.messages.create(
            model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )
    assert failed.value.status_code == 403
    assert "login.sh claude" in failed.value.message
    _, shown = await get_json(router.url + "/v1/auth/llmux/claude/status")
    assert shown["accounts"][0]["state"] == "login_required"
    _, health = await get_json(router.url + "/v1/health", headers=health_headers(router))
    claude = health["providers"]["llmux-claude"]
    assert claude["configured"] is False and "login.sh claude" in claude["reason"]
