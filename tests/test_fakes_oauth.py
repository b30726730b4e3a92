"""Self-tests of the fake OAuth servers (tests/fakes/oauth.py): the flow works end to end
and every check a real server makes rejects a wrong request."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest

from tests.fakes.anthropic import CLAUDE_CODE_SYSTEM, OAUTH_BETA, AnthropicFake
from tests.fakes.behaviours import Delay, Drop
from tests.fakes.oauth import (
    CLAUDE_CLIENT_ID,
    OPENAI_AUTH_CLAIM,
    OPENAI_CLIENT_ID,
    AuthorizeRejected,
    ClaudeOAuthFake,
    OpenAIOAuthFake,
    decode_jwt_payload,
    make_pkce,
    s256,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CLAUDE_REDIRECT = "http://localhost:54545/callback"
CLAUDE_SCOPE = "org:create_api_key user:profile user:inference"
OPENAI_REDIRECT = "http://localhost:1455/auth/callback"
OPENAI_SCOPE = "openid email profile offline_access"


@pytest.fixture
async def claude_oauth() -> AsyncIterator[ClaudeOAuthFake]:
    async with ClaudeOAuthFake() as fake:
        yield fake


@pytest.fixture
async def openai_oauth() -> AsyncIterator[OpenAIOAuthFake]:
    async with OpenAIOAuthFake() as fake:
        yield fake


def query(params: dict[str, str | None]) -> str:
    """Urlencode the parameters whose value is not None."""
    return urlencode({name: value for name, value in params.items() if value is not None})


def claude_authorize_url(
    fake: ClaudeOAuthFake, challenge: str, state: str = "state-1", **changes: str | None
) -> str:
    params: dict[str, str | None] = {
        "code": "true",
        "client_id": CLAUDE_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": CLAUDE_REDIRECT,
        "scope": CLAUDE_SCOPE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        **changes,
    }
    return f"{fake.authorize_endpoint}?{query(params)}"


def openai_authorize_query(challenge: str, **changes: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": OPENAI_CLIENT_ID,
        "redirect_uri": OPENAI_REDIRECT,
        "scope": OPENAI_SCOPE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "id_token_add_organizations": "true",
        "codex_cli_simplified_flow": "true",
        "state": "state-1",
        "prompt": "login",
        **changes,
    }
    return query(params)


def openai_authorize_url(fake: OpenAIOAuthFake, challenge: str, **changes: str | None) -> str:
    return f"{fake.authorize_endpoint}?{openai_authorize_query(challenge, **changes)}"


async def post_json(url: str, body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json(content_type=None)


async def post_form(url: str, form: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, data=form) as response:
        return response.status, await response.json(content_type=None)


async def claude_code(fake: ClaudeOAuthFake, state: str = "state-1") -> tuple[str, str]:
    """(code, verifier) from a fresh authorize."""
    verifier, challenge = make_pkce()
    code, _ = await fake.authorize(claude_authorize_url(fake, challenge, state))
    return code, verifier


def claude_exchange_body(
    fake: ClaudeOAuthFake, issued_code: str, verifier: str, **changes: str
) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": issued_code,
        "state": "state-1",
        "client_id": fake.client_id,
        "redirect_uri": CLAUDE_REDIRECT,
        "code_verifier": verifier,
        **changes,
    }


async def claude_login(fake: ClaudeOAuthFake) -> dict[str, Any]:
    code, verifier = await claude_code(fake)
    status, body = await post_json(fake.token_endpoint, claude_exchange_body(fake, code, verifier))
    assert status == 200, body
    return body


async def claude_refresh(fake: ClaudeOAuthFake, refresh_token: str) -> tuple[int, Any]:
    body = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": fake.client_id,
    }
    return await post_json(fake.token_endpoint, body)


async def openai_code(fake: OpenAIOAuthFake, scope: str = OPENAI_SCOPE) -> tuple[str, str]:
    verifier, challenge = make_pkce()
    code, _ = await fake.authorize(openai_authorize_url(fake, challenge, scope=scope))
    return code, verifier


def openai_exchange_form(fake: OpenAIOAuthFake, code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "client_id": fake.client_id,
        "code": code,
        "redirect_uri": OPENAI_REDIRECT,
        "code_verifier": verifier,
    }


async def openai_login(fake: OpenAIOAuthFake) -> dict[str, Any]:
    code, verifier = await openai_code(fake)
    status, body = await post_form(fake.token_endpoint, openai_exchange_form(fake, code, verifier))
    assert status == 200, body
    return body


def openai_refresh_form(fake: OpenAIOAuthFake, refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "refresh_token": refresh_token,
        "scope": "openid profile email",
    }


# PKCE helpers ------------------------------------------------------------------------------


def test_s256_matches_rfc7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
    assert s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


# Claude: authorize -------------------------------------------------------------------------


async def test_claude_authorize_redirects_to_the_callback_with_code_and_state(
    claude_oauth: ClaudeOAuthFake,
) -> None:
    _, challenge = make_pkce()
    url = claude_authorize_url(claude_oauth, challenge, state="xyz")
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, allow_redirects=False) as response,
    ):
        assert response.status == 302
        location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CLAUDE_REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    assert query["code"][0] in claude_oauth.codes
    assert claude_oauth.last_request.query["code_challenge"] == challenge


async def test_claude_paste_form_is_code_hash_state(claude_oauth: ClaudeOAuthFake) -> None:
    _, challenge = make_pkce()
    pasted = await claude_oauth.authorize_paste(claude_authorize_url(claude_oauth, challenge, "s9"))
    code, state = pasted.split("#")
    assert state == "s9"
    assert code in claude_oauth.codes


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"state": None}, "invalid_request"),
        ({"code": None}, "invalid_request"),
        ({"redirect_uri": "http://evil.example/callback"}, "invalid_request"),
        ({"redirect_uri": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "user:profile"}, "invalid_scope"),
        ({"scope": "user:inference admin:everything"}, "invalid_scope"),
    ],
)
async def test_claude_authorize_rejects_a_wrong_request(
    claude_oauth: ClaudeOAuthFake, changes: dict[str, str | None], error: str
) -> None:
    _, challenge = make_pkce()
    with pytest.raises(AuthorizeRejected) as rejected:
        await claude_oauth.authorize(claude_authorize_url(claude_oauth, challenge, **changes))
    assert rejected.value.status == 400
    assert rejected.value.body["error"] == error
    assert claude_oauth.codes == {}


async def test_authorize_rejects_a_repeated_parameter(claude_oauth: ClaudeOAuthFake) -> None:
    _, challenge = make_pkce()
    url = claude_authorize_url(claude_oauth, challenge) + "&state=second"
    with pytest.raises(AuthorizeRejected) as rejected:
        await claude_oauth.authorize(url)
    assert rejected.value.body["error"] == "invalid_request"


async def test_authorize_helper_refuses_a_url_of_another_server(
    claude_oauth: ClaudeOAuthFake,
) -> None:
    with pytest.raises(ValueError):
        await claude_oauth.authorize("https://claude.ai/oauth/authorize?code=true")


# Claude: token endpoint --------------------------------------------------------------------


async def test_claude_login_issues_claude_tokens_with_account(
    claude_oauth: ClaudeOAuthFake,
) -> None:
    issued: list[str] = []
    claude_oauth.on_issue = issued.append
    body = await claude_login(claude_oauth)
    assert body["access_token"].startswith("sk-ant-oat01-")
    assert body["refresh_token"].startswith("sk-ant-ort01-")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 28800
    assert body["scope"] == CLAUDE_SCOPE
    assert body["account"]["email_address"] == "ada@example.com"
    assert body["account"]["uuid"] == claude_oauth.account.account_id
    assert body["organization"]["uuid"] == claude_oauth.account.organization_id
    assert issued == [body["access_token"]]
    assert claude_oauth.valid_access_tokens == {body["access_token"]}
    assert claude_oauth.token_calls["authorization_code"] == 1
    assert claude_oauth.token_bodies("authorization_code")[0]["state"] == "state-1"


async def test_claude_rejects_a_wrong_verifier_and_the_code_is_spent(
    claude_oauth: ClaudeOAuthFake,
) -> None:
    code, verifier = await claude_code(claude_oauth)
    wrong, _ = make_pkce()
    status, body = await post_json(
        claude_oauth.token_endpoint, claude_exchange_body(claude_oauth, code, wrong)
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await post_json(
        claude_oauth.token_endpoint, claude_exchange_body(claude_oauth, code, verifier)
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    assert claude_oauth.grants == []


async def test_claude_rejects_a_reused_code(claude_oauth: ClaudeOAuthFake) -> None:
    code, verifier = await claude_code(claude_oauth)
    exchange = claude_exchange_body(claude_oauth, code, verifier)
    assert (await post_json(claude_oauth.token_endpoint, exchange))[0] == 200
    status, body = await post_json(claude_oauth.token_endpoint, exchange)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert len(claude_oauth.grants) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"state": "another-state"},
        {"redirect_uri": "http://localhost:9999/callback"},
        {"code": "never-issued"},
    ],
)
async def test_claude_exchange_rejects_a_mismatch(
    claude_oauth: ClaudeOAuthFake, changes: dict[str, str]
) -> None:
    code, verifier = await claude_code(claude_oauth)
    status, body = await post_json(
        claude_oauth.token_endpoint, claude_exchange_body(claude_oauth, code, verifier, **changes)
    )
    assert (status, body["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_id": "someone-else"}, 400, "invalid_client"),
        ({"code_verifier": "short"}, 400, "invalid_request"),
        ({"state": ""}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
async def test_claude_exchange_rejects_a_malformed_body(
    claude_oauth: ClaudeOAuthFake, changes: dict[str, str], status: int, error: str
) -> None:
    code, verifier = await claude_code(claude_oauth)
    reply = await post_json(
        claude_oauth.token_endpoint, claude_exchange_body(claude_oauth, code, verifier, **changes)
    )
    assert (reply[0], reply[1]["error"]) == (status, error)


async def test_claude_rejects_an_expired_code() -> None:
    async with ClaudeOAuthFake(code_ttl=0) as fake:
        code, verifier = await claude_code(fake)
        status, body = await post_json(
            fake.token_endpoint, claude_exchange_body(fake, code, verifier)
        )
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "expired" in body["error_description"]


async def test_claude_token_endpoint_rejects_a_form_body(claude_oauth: ClaudeOAuthFake) -> None:
    code, verifier = await claude_code(claude_oauth)
    status, body = await post_form(
        claude_oauth.token_endpoint, claude_exchange_body(claude_oauth, code, verifier)
    )
    assert (status, body["error"]) == (400, "invalid_request")
    assert claude_oauth.codes[code].used is False


async def test_claude_token_endpoint_judges_by_content_type(
    claude_oauth: ClaudeOAuthFake,
) -> None:
    code, verifier = await claude_code(claude_oauth)
    json_text = json.dumps(claude_exchange_body(claude_oauth, code, verifier))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(claude_oauth.token_endpoint, data=json_text, headers=headers) as response,
    ):
        assert response.status == 400
        assert (await response.json())["error_description"].startswith("Content-Type")


async def test_claude_refresh_rotates_the_refresh_token(claude_oauth: ClaudeOAuthFake) -> None:
    first = await claude_login(claude_oauth)
    status, second = await claude_refresh(claude_oauth, first["refresh_token"])
    assert status == 200
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["account"]["email_address"] == "ada@example.com"
    assert claude_oauth.valid_access_tokens == {first["access_token"], second["access_token"]}
    assert claude_oauth.valid_refresh_tokens == {second["refresh_token"]}
    assert claude_oauth.grant_of(second["access_token"]).account.email == "ada@example.com"
    status, body = await claude_refresh(claude_oauth, first["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert claude_oauth.token_calls["refresh_token"] == 2


async def test_claude_refresh_rejects_another_client_and_unknown_tokens(
    claude_oauth: ClaudeOAuthFake,
) -> None:
    login = await claude_login(claude_oauth)
    status, body = await post_json(
        claude_oauth.token_endpoint,
        {"grant_type": "refresh_token", "refresh_token": login["refresh_token"],
         "client_id": "someone-else"},
    )  # fmt: skip
    assert (status, body["error"]) == (400, "invalid_client")
    status, body = await claude_refresh(claude_oauth, login["access_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    claude_oauth.revoke_refresh_token(login["refresh_token"])
    status, body = await claude_refresh(claude_oauth, login["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_claude_expires_in_zero_issues_an_already_expired_token() -> None:
    async with ClaudeOAuthFake(expires_in=0) as fake:
        body = await claude_login(fake)
    assert body["expires_in"] == 0
    assert not fake.is_access_token_valid(body["access_token"])


async def test_revoking_an_access_token_invalidates_it_and_calls_the_hook(
    claude_oauth: ClaudeOAuthFake,
) -> None:
    revoked: list[str] = []
    claude_oauth.on_revoke = revoked.append
    body = await claude_login(claude_oauth)
    claude_oauth.revoke_access_token(body["access_token"])
    assert revoked == [body["access_token"]]
    assert claude_oauth.valid_access_tokens == set()
    with pytest.raises(KeyError):
        claude_oauth.revoke_access_token("sk-ant-oat01-never-issued")


async def test_signing_in_another_account(claude_oauth: ClaudeOAuthFake) -> None:
    verifier, challenge = make_pkce()
    code, _ = await claude_oauth.authorize(
        claude_authorize_url(claude_oauth, challenge), email="bob@example.com"
    )
    status, body = await post_json(
        claude_oauth.token_endpoint, claude_exchange_body(claude_oauth, code, verifier)
    )
    assert status == 200
    assert body["account"]["email_address"] == "bob@example.com"
    assert body["account"]["uuid"] == claude_oauth.accounts["bob@example.com"].account_id
    assert body["account"]["uuid"] != claude_oauth.accounts["ada@example.com"].account_id


async def test_issued_claude_token_is_accepted_by_the_anthropic_fake() -> None:
    async with AnthropicFake(oauth_tokens=[]) as upstream:
        async with ClaudeOAuthFake(on_issue=upstream.oauth_tokens.append) as fake:
            token = (await claude_login(fake))["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "anthropic-version": "2023-06-01",
            "anthropic-beta": OAUTH_BETA,
        }
        body = {
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 16,
            "system": CLAUDE_CODE_SYSTEM,
            "messages": [{"role": "user", "content": "hi"}],
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(upstream.base_url + "/v1/messages", json=body, headers=headers) as reply,
        ):
            assert reply.status == 200


# Failure controls --------------------------------------------------------------------------


async def test_fail_next_fails_token_calls_without_spending_the_grant(
    claude_oauth: ClaudeOAuthFake,
) -> None:
    login = await claude_login(claude_oauth)
    claude_oauth.fail_next(2, status=500)
    claude_oauth.fail_next(1, status=400)
    outcomes = [await claude_refresh(claude_oauth, login["refresh_token"]) for _ in range(4)]
    assert [(s, b.get("error")) for s, b in outcomes] == [
        (500, "server_error"),
        (500, "server_error"),
        (400, "invalid_grant"),
        (200, None),
    ]
    assert claude_oauth.token_calls["refresh_token"] == 4


async def test_token_delay_lets_concurrent_refreshes_race(claude_oauth: ClaudeOAuthFake) -> None:
    login = await claude_login(claude_oauth)
    claude_oauth.token_delay = 0.05
    started = time.monotonic()
    outcomes = await asyncio.gather(
        claude_refresh(claude_oauth, login["refresh_token"]),
        claude_refresh(claude_oauth, login["refresh_token"]),
    )
    assert time.monotonic() - started >= 0.05
    assert sorted(status for status, _ in outcomes) == [200, 400]


async def test_scripted_delay_applies_to_the_token_endpoint(claude_oauth: ClaudeOAuthFake) -> None:
    login = await claude_login(claude_oauth)
    claude_oauth.script.push(Delay(0.05))
    started = time.monotonic()
    status, _ = await claude_refresh(claude_oauth, login["refresh_token"])
    assert status == 200
    assert time.monotonic() - started >= 0.05


async def test_a_dropped_answer_still_rotates_the_refresh_token(
    claude_oauth: ClaudeOAuthFake,
) -> None:
    login = await claude_login(claude_oauth)
    claude_oauth.script.push(Drop(after_chunks=1))
    with pytest.raises(aiohttp.ClientError):
        await claude_refresh(claude_oauth, login["refresh_token"])
    status, body = await claude_refresh(claude_oauth, login["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")


# OpenAI ------------------------------------------------------------------------------------


async def test_openai_login_issues_jwts_with_the_account_claim(
    openai_oauth: OpenAIOAuthFake,
) -> None:
    before = int(time.time())
    body = await openai_login(openai_oauth)
    assert set(body) == {
        "access_token", "refresh_token", "id_token", "expires_in", "token_type", "scope"
    }  # fmt: skip
    assert body["token_type"] == "Bearer"
    claims = decode_jwt_payload(body["id_token"])
    assert claims["email"] == "ada@example.com"
    auth = claims[OPENAI_AUTH_CLAIM]
    assert auth["chatgpt_account_id"] == openai_oauth.account.account_id
    assert auth["chatgpt_plan_type"] == "plus"
    assert claims["exp"] >= before + body["expires_in"]
    assert claims["aud"] == [openai_oauth.client_id]
    access = decode_jwt_payload(body["access_token"])
    assert access[OPENAI_AUTH_CLAIM]["chatgpt_account_id"] == auth["chatgpt_account_id"]
    assert len(body["id_token"].split(".")) == 3
    assert openai_oauth.is_access_token_valid(body["access_token"])
    assert openai_oauth.token_bodies("authorization_code")[0]["code_verifier"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"client_id": "app_other"}, "invalid_client"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"prompt": "whatever"}, "invalid_request"),
        ({"codex_cli_simplified_flow": "false"}, "invalid_request"),
        ({"id_token_add_organizations": "yes"}, "invalid_request"),
        ({"redirect_uri": "http://localhost:1455/callback"}, "invalid_request"),
        ({"scope": "email profile offline_access"}, "invalid_scope"),
    ],
)
async def test_openai_authorize_rejects_a_wrong_request(
    openai_oauth: OpenAIOAuthFake, changes: dict[str, str], error: str
) -> None:
    _, challenge = make_pkce()
    with pytest.raises(AuthorizeRejected) as rejected:
        await openai_oauth.authorize(openai_authorize_url(openai_oauth, challenge, **changes))
    assert (rejected.value.status, rejected.value.body["error"]) == (400, error)


async def test_openai_authorize_optional_parameters_may_be_left_out(
    openai_oauth: OpenAIOAuthFake,
) -> None:
    _, challenge = make_pkce()
    url = openai_authorize_url(
        openai_oauth,
        challenge,
        prompt=None,
        id_token_add_organizations=None,
        codex_cli_simplified_flow=None,
    )
    _, state = await openai_oauth.authorize(url)
    assert state == "state-1"


async def test_openai_token_endpoint_rejects_json(openai_oauth: OpenAIOAuthFake) -> None:
    code, verifier = await openai_code(openai_oauth)
    status, body = await post_json(
        openai_oauth.token_endpoint, openai_exchange_form(openai_oauth, code, verifier)
    )
    assert (status, body["error"]) == (400, "invalid_request")
    assert openai_oauth.token_calls == {}


async def test_openai_rejects_a_wrong_verifier(openai_oauth: OpenAIOAuthFake) -> None:
    code, _ = await openai_code(openai_oauth)
    wrong, _ = make_pkce()
    status, body = await post_form(
        openai_oauth.token_endpoint, openai_exchange_form(openai_oauth, code, wrong)
    )
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_openai_refresh_rotates_and_reports_reuse_like_the_real_server(
    openai_oauth: OpenAIOAuthFake,
) -> None:
    first = await openai_login(openai_oauth)
    status, second = await post_form(
        openai_oauth.token_endpoint, openai_refresh_form(openai_oauth, first["refresh_token"])
    )
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert decode_jwt_payload(second["id_token"])["email"] == "ada@example.com"
    status, body = await post_form(
        openai_oauth.token_endpoint, openai_refresh_form(openai_oauth, first["refresh_token"])
    )
    assert status == 401
    assert body["error"]["code"] == "refresh_token_reused"
    openai_oauth.revoke_refresh_token(second["refresh_token"])
    status, body = await post_form(
        openai_oauth.token_endpoint, openai_refresh_form(openai_oauth, second["refresh_token"])
    )
    assert (status, body["error"]["code"]) == (401, "refresh_token_invalidated")


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        (None, "invalid_request"),
        ("profile email", "invalid_scope"),
        ("openid admin", "invalid_scope"),
    ],
)
async def test_openai_refresh_requires_a_scope_within_the_grant(
    openai_oauth: OpenAIOAuthFake, scope: str | None, error: str
) -> None:
    login = await openai_login(openai_oauth)
    form = openai_refresh_form(openai_oauth, login["refresh_token"])
    del form["scope"]
    if scope is not None:
        form["scope"] = scope
    status, body = await post_form(openai_oauth.token_endpoint, form)
    assert (status, body["error"]) == (400, error)
    assert openai_oauth.valid_refresh_tokens == {login["refresh_token"]}


async def test_openai_without_offline_access_gives_no_refresh_token(
    openai_oauth: OpenAIOAuthFake,
) -> None:
    code, verifier = await openai_code(openai_oauth, scope="openid email profile")
    status, body = await post_form(
        openai_oauth.token_endpoint, openai_exchange_form(openai_oauth, code, verifier)
    )
    assert status == 200
    assert "refresh_token" not in body


# Standalone process ------------------------------------------------------------------------


async def test_standalone_process_prints_port_and_serves() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.oauth", "openai", "--port", "0", "--print-port",
        "--email", "eve@example.com",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        port = int(await asyncio.wait_for(process.stdout.readline(), 10))
        _, challenge = make_pkce()
        url = f"http://127.0.0.1:{port}/oauth/authorize?{openai_authorize_query(challenge)}"
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, allow_redirects=False) as response,
        ):
            assert response.status == 302
            assert response.headers["Location"].startswith(OPENAI_REDIRECT + "?code=")
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
