"""Clerk client and token cache against the Clerk fake: lookup, exchange, cache, rotation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from router.config.wire import ctonew as constants
from router.oauth.jwt import jwt_claims
from router.subscriptions.ctonew.clerk import (
    ClerkClient,
    ClerkError,
    SignedOut,
    TokenCache,
    client_cookie,
    client_id,
    rotated_cookie,
)
from tests.fakes.clerk import ClerkFake, client_cookie_value, unsigned_jwt


@pytest.fixture
async def clerk_fake() -> AsyncIterator[ClerkFake]:
    async with ClerkFake() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


def client_for(fake: ClerkFake, http: aiohttp.ClientSession, origin: str = constants.ORIGIN):
    return ClerkClient(
        http, clerk_url=fake.base_url, api_version=constants.CLERK_API_VERSION, origin=origin
    )


class Saved:
    """A persist callback recording what it was given; ``fail`` makes the next saves fail."""

    def __init__(self) -> None:
        self.cookies: list[str] = []
        self.fail = False

    def __call__(self, cookie: str) -> bool:
        self.cookies.append(cookie)
        return not self.fail


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---- the cookie the user pastes ------------------------------------------------------------


def test_client_cookie_accepts_bare_value_and_whole_header() -> None:
    value = client_cookie_value("client_1")
    assert client_cookie(value) == value
    assert client_cookie(f"  {value}\n") == value
    header = f"__session=eyJx.eyJy.z; __client_uat=1700000000; __client={value}; other=1"
    assert client_cookie(header) == value
    assert client_cookie(f"__client={value}") == value
    assert client_cookie(f"Cookie: __client={value}; __client_uat=1") == value
    assert client_id(value) == "client_1"


@pytest.mark.parametrize(
    "pasted, reason",
    [
        ("not a token", "not a JWT"),
        (unsigned_jwt({"sub": "user_1", "sid": "sess_1"}), "rotating_token"),
        ("__session=abc; __client_uat=1", "no __client cookie"),
    ],
)
def test_client_cookie_rejects_what_is_not_a_client_token(pasted: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        client_cookie(pasted)


def test_rotated_cookie_ignores_clearing_and_the_same_value() -> None:
    assert rotated_cookie(["__client=new1; Path=/; HttpOnly"], "old") == "new1"
    assert rotated_cookie(["__client=old; Path=/"], "old") is None
    assert rotated_cookie(['__client=""; Max-Age=0; Path=/'], "old") is None
    assert rotated_cookie(["__client=gone; Max-Age=0; Path=/"], "old") is None
    assert rotated_cookie(["__client_uat=5; Path=/"], "old") is None


# ---- the Clerk calls ---------------------------------------------------------------------------


async def test_session_lookup_finds_the_active_session(clerk_fake, http) -> None:
    account = clerk_fake.add_account(session_id="sess_lookup")
    session_id, rotated = await client_for(clerk_fake, http).session_id(account.cookie)
    assert (session_id, rotated) == ("sess_lookup", None)
    request = clerk_fake.last_request
    assert request.headers["Origin"] == constants.ORIGIN
    assert request.headers["Referer"] == constants.ORIGIN + "/"


async def test_exchange_issues_a_short_jwt_for_the_user(clerk_fake, http) -> None:
    account = clerk_fake.add_account(user_id="user_x", session_id="sess_x")
    exchange = await client_for(clerk_fake, http).exchange(account.cookie, "sess_x")
    assert exchange.token.user_id == "user_x"
    assert exchange.rotated_cookie is None
    assert exchange.token.expires_at == pytest.approx(jwt_claims(exchange.token.jwt)["exp"])
    assert clerk_fake.verify_jwt(exchange.token.jwt) is not None
    assert exchange.token.jwt not in repr(exchange.token)
    request = clerk_fake.last_request
    assert request.query["__clerk_api_version"] == constants.CLERK_API_VERSION
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.body == b""


async def test_exchange_sends_the_organization(clerk_fake, http) -> None:
    account = clerk_fake.add_account(session_id="sess_o", organization_id="org_1")
    clerk = client_for(clerk_fake, http)
    await clerk.exchange(account.cookie, "sess_o", "org_1")
    assert clerk_fake.last_request.body == b"organization_id=org_1"
    with pytest.raises(ClerkError, match="403"):
        await clerk.exchange(account.cookie, "sess_o", "org_other")


async def test_rotation_is_reported_and_the_old_cookie_dies(clerk_fake, http) -> None:
    account = clerk_fake.add_account(session_id="sess_r")
    clerk_fake.rotate = True
    clerk = client_for(clerk_fake, http)
    old = account.cookie
    exchange = await clerk.exchange(old, "sess_r")
    assert exchange.rotated_cookie == account.cookie != old
    assert client_cookie(exchange.rotated_cookie) == exchange.rotated_cookie
    with pytest.raises(SignedOut):
        await clerk.exchange(old, "sess_r")
    assert (await clerk.exchange(exchange.rotated_cookie, "sess_r")).token.user_id


async def test_dead_cookie_is_signed_out_with_the_fix(clerk_fake, http) -> None:
    account = clerk_fake.add_account()
    clerk_fake.sign_out(account)
    with pytest.raises(SignedOut) as caught:
        await client_for(clerk_fake, http).exchange(account.cookie, account.session_id)
    assert caught.value.status == 401
    assert "Signed out" in caught.value.message
    assert "POST /v1/auth/ctonew" in caught.value.message
    assert account.cookie not in caught.value.message


async def test_wrong_origin_is_refused_by_clerk(clerk_fake, http) -> None:
    account = clerk_fake.add_account()
    with pytest.raises(ClerkError, match="403") as caught:
        await client_for(clerk_fake, http, origin="https://evil.example").session_id(account.cookie)
    assert not isinstance(caught.value, SignedOut)


# ---- the token cache ---------------------------------------------------------------------------


async def test_cache_reuses_the_jwt_until_shortly_before_exp(clerk_fake, http) -> None:
    account = clerk_fake.add_account()
    clock = Clock(0.0)
    cache = TokenCache(client_for(clerk_fake, http), margin=10.0, clock=clock)
    saved = Saved()
    first = await cache.token("a", account.cookie, saved)
    clock.now = first.expires_at - 10.5
    assert await cache.token("a", account.cookie, saved) is first
    assert len(clerk_fake.exchanges) == 1
    assert len(clerk_fake.lookups) == 1
    clock.now = first.expires_at - 9.5
    second = await cache.token("a", account.cookie, saved)
    assert second is not first
    assert len(clerk_fake.exchanges) == 2
    assert len(clerk_fake.lookups) == 1, "the session id is remembered"
    assert saved.cookies == []


async def test_concurrent_requests_share_one_exchange_and_one_save(clerk_fake, http) -> None:
    account = clerk_fake.add_account()
    clerk_fake.rotate = True
    cache = TokenCache(client_for(clerk_fake, http), margin=10.0)
    original = account.cookie
    saved = Saved()
    tokens = await asyncio.gather(*(cache.token("a", original, saved) for _ in range(20)))
    assert len({t.jwt for t in tokens}) == 1
    assert len(clerk_fake.exchanges) == 1
    assert saved.cookies == [account.cookie]


async def test_stored_session_id_skips_the_lookup(clerk_fake, http) -> None:
    account = clerk_fake.add_account(session_id="sess_given")
    cache = TokenCache(client_for(clerk_fake, http), margin=10.0)
    await cache.token("a", account.cookie, Saved(), session_id="sess_given")
    assert clerk_fake.lookups == []
    assert len(clerk_fake.exchanges) == 1


async def test_rotation_is_saved_and_a_failed_save_is_retried(clerk_fake, http) -> None:
    account = clerk_fake.add_account()
    clerk_fake.rotate = True
    clock = Clock(0.0)
    cache = TokenCache(client_for(clerk_fake, http), margin=10.0, clock=clock)
    original = account.cookie
    saved = Saved()
    saved.fail = True
    first = await cache.token("a", original, saved)
    rotated = account.cookie
    assert saved.cookies == [rotated]
    # The save failed, so the store still holds the original (now dead) cookie: the cache
    # answers with the newest one and saves it again instead of showing Clerk a dead cookie.
    saved.fail = False
    assert await cache.token("a", original, saved) is first
    assert saved.cookies == [rotated, rotated]
    clock.now = first.expires_at
    second = await cache.token("a", rotated, saved)
    assert saved.cookies == [rotated, rotated, account.cookie]
    assert account.cookie != rotated
    assert second.user_id == first.user_id
    assert len(clerk_fake.exchanges) == 2


async def test_a_new_cookie_for_the_same_key_starts_over(clerk_fake, http) -> None:
    first_account = clerk_fake.add_account(user_id="user_1", session_id="sess_1")
    second_account = clerk_fake.add_account(user_id="user_2", session_id="sess_2")
    cache = TokenCache(client_for(clerk_fake, http), margin=10.0)
    token = await cache.token("a", first_account.cookie, Saved())
    assert token.user_id == "user_1"
    token = await cache.token("a", second_account.cookie, Saved())
    assert token.user_id == "user_2"
    assert len(clerk_fake.lookups) == 2


async def test_forget_drops_the_jwt(clerk_fake, http) -> None:
    account = clerk_fake.add_account()
    cache = TokenCache(client_for(clerk_fake, http), margin=10.0)
    first = await cache.token("a", account.cookie, Saved())
    cache.forget("a")
    assert (await cache.token("a", account.cookie, Saved())) is not first
    assert len(clerk_fake.exchanges) == 2
