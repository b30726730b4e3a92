"""cto.new end to end: SDK clients -> router -> fake Clerk + fake EngineLabs.

The account is stored the way a user does it, through ``POST /v1/auth/ctonew``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import anthropic
import openai
import pytest

from router.credentials import CredentialStore
from tests.conftest import StartRouter
from tests.fakes.clerk import ClerkAccount, ClerkFake, client_cookie_value
from tests.fakes.enginelabs import Answer, EngineLabsFake

SECRET = "management-secret-for-tests"
MANAGEMENT = {"Authorization": f"Bearer {SECRET}"}


@dataclass
class Setup:
    url: str
    client: openai.AsyncOpenAI
    http: aiohttp.ClientSession
    clerk: ClerkFake
    engine: EngineLabsFake
    account: ClerkAccount
    auth_dir: Path

    async def store(self, body: dict, headers: dict | None = None) -> aiohttp.ClientResponse:
        async with self.http.post(
            self.url + "/v1/auth/ctonew",
            json=body,
            headers=MANAGEMENT if headers is None else headers,
        ) as response:
            await response.read()
            return response

    async def status(self) -> dict:
        async with self.http.get(self.url + "/v1/auth/ctonew/status", headers=MANAGEMENT) as r:
            assert r.status == 200
            return await r.json()

    def credential_file(self, credential_id: str) -> dict:
        return json.loads((self.auth_dir / f"{credential_id}.json").read_text())


@pytest.fixture
async def setup(router_factory: StartRouter, tmp_path: Path) -> AsyncIterator[Setup]:
    async with (
        ClerkFake() as clerk,
        EngineLabsFake(clerk) as engine,
        aiohttp.ClientSession() as http,
    ):
        account = clerk.add_account(user_id="user_e2e", session_id="sess_e2e")
        CredentialStore(tmp_path / "auth").save(
            "ctonew", "ctonew-work", {"client_cookie": account.cookie, "label": "work"}
        )
        router = await router_factory(
            {
                "subscriptions": {
                    "ctonew": {
                        "clerk-url": clerk.base_url,
                        "api-base": engine.base_url,
                        "ws-base": engine.ws_base,
                    },
                    "claude": {"enabled": False},
                    "chatgpt": {"enabled": False},
                },
                "management": {"secret": SECRET},
                "routing": {"retry-backoff": 0.01},
            }
        )
        client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
        yield Setup(router.url, client, http, clerk, engine, account, tmp_path / "auth")
        await client.close()


async def test_store_status_and_delete_never_show_the_cookie(setup: Setup) -> None:
    other = setup.clerk.add_account(user_id="user_two", session_id="sess_two")
    response = await setup.store(
        {
            "cookie": f"__session=x.y.z; __client={other.cookie}; __client_uat=1",
            "session_id": "sess_two",
            "organization_id": "org_two",
            "label": "second",
        }
    )
    assert response.status == 200
    stored = await response.json()
    assert stored == {
        "status": "stored",
        "provider": "ctonew",
        "id": "ctonew-second",
        "label": "second",
    }
    saved = setup.credential_file("ctonew-second")
    assert saved["client_cookie"] == other.cookie
    assert saved["session_id"] == "sess_two"
    assert saved["organization_id"] == "org_two"
    assert saved["type"] == "ctonew"
    mode = (setup.auth_dir / "ctonew-second.json").stat().st_mode & 0o777
    assert mode == 0o600
    status = await setup.status()
    assert status["logged_in"] is True
    assert [(a["id"], a["label"], a["state"]) for a in status["accounts"]] == [
        ("ctonew-second", "second", "ok"),
        ("ctonew-work", "work", "ok"),
    ]
    assert status["accounts"][0]["session_id"] == "sess_two"
    assert other.cookie not in json.dumps(status)
    assert setup.account.cookie not in json.dumps(status)
    async with setup.http.delete(
        setup.url + "/v1/auth/ctonew", params={"id": "ctonew-second"}, headers=MANAGEMENT
    ) as response:
        assert await response.json() == {"provider": "ctonew", "removed": ["ctonew-second"]}
    async with setup.http.delete(
        setup.url + "/v1/auth/ctonew", params={"id": "ctonew-second"}, headers=MANAGEMENT
    ) as response:
        assert response.status == 404
        assert "ctonew-second" in (await response.json())["error"]["message"]
    assert not (setup.auth_dir / "ctonew-second.json").exists()
    async with setup.http.delete(setup.url + "/v1/auth/ctonew", headers=MANAGEMENT) as response:
        assert await response.json() == {"provider": "ctonew", "removed": ["ctonew-work"]}
    status = await setup.status()
    assert status["accounts"] == [] and "POST /v1/auth/ctonew" in status["fix"]


async def test_stored_login_serves_requests_and_a_new_cookie_revives_an_account(
    setup: Setup,
) -> None:
    setup.clerk.sign_out(setup.account)
    with pytest.raises(openai.APIStatusError):
        await setup.client.chat.completions.create(
            model="ctonew-gpt-5", messages=[{"role": "user", "content": "hi"}]
        )
    fresh = setup.clerk.add_account(user_id="user_e2e", session_id="sess_fresh")
    response = await setup.store({"cookie": fresh.cookie, "label": "work"})
    assert response.status == 200
    assert (await response.json())["id"] == "ctonew-work"
    setup.engine.answers.append(Answer(text="back again"))
    completion = await setup.client.chat.completions.create(
        model="ctonew-gpt-5", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "back again"
    assert (await setup.status())["accounts"][0]["state"] == "ok"


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"cookie": "__session=abc"}, "no __client cookie"),
        ({"cookie": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.sig"}, "rotating_token"),
        ({}, "cookie"),
        ({"cookie": client_cookie_value("client_p"), "session_id": "nope"}, "sess_"),
        ({"cookie": client_cookie_value("client_p"), "organization_id": 5}, "org_"),
        ({"cookie": client_cookie_value("client_p"), "label": ["x"]}, "label"),
    ],
)
async def test_store_refuses_what_is_not_a_clerk_login(setup: Setup, body, fragment) -> None:
    async with setup.http.post(
        setup.url + "/v1/auth/ctonew", json=body, headers=MANAGEMENT
    ) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["type"] == "invalid_request_error"
    assert fragment in error["message"]


async def test_auth_routes_need_the_management_secret(setup: Setup) -> None:
    response = await setup.store({"cookie": setup.account.cookie}, headers={})
    assert response.status == 401
    async with setup.http.get(setup.url + "/v1/auth/ctonew/status") as response:
        assert response.status == 401


async def test_openai_sdk_whole_answer_with_reasoning(setup: Setup) -> None:
    setup.engine.answers.append(Answer(text="Four.", thinking="2 plus 2", chunks=2))
    completion = await setup.client.chat.completions.create(
        model="ctonew-gpt-5",
        messages=[
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "2+2?"},
        ],
    )
    message = completion.choices[0].message
    assert message.content == "Four."
    assert getattr(message, "reasoning_content", None) == "2 plus 2"
    assert completion.choices[0].finish_reason == "stop"
    chat = setup.engine.chats[0]
    assert chat.prompt == "system:\nAnswer in one word.\n\nuser:\n2+2?"
    assert chat.adapter == "GPT5"
    assert chat.user_id == "user_e2e"


async def test_openai_sdk_stream_with_reasoning(setup: Setup) -> None:
    setup.engine.answers.append(Answer(text="one two three", thinking="counting", chunks=3))
    stream = await setup.client.chat.completions.create(
        model="ctonew-gpt-5", messages=[{"role": "user", "content": "count"}], stream=True
    )
    text, reasoning, finish = [], [], []
    async for chunk in stream:
        delta = chunk.choices[0].delta
        text.append(delta.content or "")
        reasoning.append(getattr(delta, "reasoning_content", None) or "")
        finish.append(chunk.choices[0].finish_reason)
    assert "".join(text) == "one two three"
    assert "".join(reasoning) == "counting"
    assert finish[-1] == "stop"


async def test_anthropic_client_gets_thinking_blocks(setup: Setup) -> None:
    setup.engine.answers.append(Answer(text="Bonjour.", thinking="French greeting"))
    async with anthropic.AsyncAnthropic(
        base_url=setup.url, api_key="unused", max_retries=0
    ) as client:
        message = await client.messages.create(
            model="ctonew-claude-sonnet",
            max_tokens=100,
            messages=[{"role": "user", "content": "Say hello in French"}],
        )
    kinds = [block.type for block in message.content]
    assert kinds == ["thinking", "text"]
    assert message.content[0].thinking == "French greeting"
    assert message.content[1].text == "Bonjour."
    assert setup.engine.chats[0].adapter == "ClaudeSonnet4_5"


async def test_gpt5_falls_back_to_ctonew(setup: Setup) -> None:
    setup.engine.answers.append(Answer(text="from cto.new"))
    completion = await setup.client.chat.completions.create(
        model="gpt-5", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "from cto.new"
    assert setup.engine.chats[0].adapter == "GPT5"


async def test_rotation_is_persisted_to_the_credential_file(setup: Setup) -> None:
    setup.clerk.rotate = True
    original = setup.account.cookie
    await setup.client.chat.completions.create(
        model="ctonew-gpt-5", messages=[{"role": "user", "content": "hi"}]
    )
    saved = setup.credential_file("ctonew-work")
    assert saved["client_cookie"] == setup.account.cookie != original
    assert saved["label"] == "work"
    assert original in setup.account.dead_cookies


async def test_dead_cookie_is_a_clean_error_naming_the_fix(setup: Setup) -> None:
    setup.clerk.sign_out(setup.account)
    for _ in range(2):
        with pytest.raises(openai.APIStatusError) as caught:
            await setup.client.chat.completions.create(
                model="ctonew-gpt-5", messages=[{"role": "user", "content": "hi"}]
            )
        assert caught.value.status_code == 403
        assert "POST /v1/auth/ctonew" in caught.value.message
        assert setup.account.cookie not in caught.value.message
    assert len([r for r in setup.clerk.requests if r.path.endswith("/v1/client")]) == 1
    status = await setup.status()
    assert status["logged_in"] is False
    assert status["accounts"][0]["state"] == "signed_out"
    assert setup.engine.chats == []
    health_headers = {"X-Management-Key": SECRET}
    async with setup.http.get(setup.url + "/v1/health", headers=health_headers) as response:
        health = await response.json()
    ctonew = health["providers"]["ctonew"]
    assert ctonew["status"] == "login_required"
    assert ctonew["accounts"][0]["state"] == "signed_out"
    assert "POST /v1/auth/ctonew" in ctonew["accounts"][0]["fix"]
    assert setup.account.cookie not in json.dumps(health)


async def test_socket_lost_mid_stream_ends_the_stream_with_an_error(setup: Setup) -> None:
    setup.engine.answers.append(Answer(text="one two three four", drop_after=2))
    stream = await setup.client.chat.completions.create(
        model="ctonew-gpt-5", messages=[{"role": "user", "content": "count"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "one two "
    assert "cto.new closed the chat socket mid-answer" in caught.value.message


async def test_client_leaving_mid_stream_closes_the_chat_socket(setup: Setup) -> None:
    setup.engine.answers.append(Answer(text="endless", hang=True))
    body = {
        "model": "ctonew-gpt-5",
        "messages": [{"role": "user", "content": "go"}],
        "stream": True,
    }
    async with aiohttp.ClientSession() as session:
        response = await session.post(setup.url + "/v1/chat/completions", json=body)
        assert b"endless" in await response.content.readuntil(b"endless")
        assert setup.engine.open_sockets == 1
        response.close()
    await setup.engine.wait_sockets_closed()
    await asyncio.sleep(0)
    assert setup.engine.open_sockets == 0
