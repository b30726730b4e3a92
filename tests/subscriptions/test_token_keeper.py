"""TokenKeeper: single-flight refresh, background refresh ahead of expiry, backoff."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from router.credentials import CredentialStore, CredentialUnusable, StoredCredential, TokenKeeper
from router.errors import OAuthError


class Refresher:
    """Counts refresh grants; answers after ``delay`` with a numbered token."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.fail_with: OAuthError | None = None

    async def __call__(self, credential: StoredCredential) -> Mapping[str, Any]:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        return {
            "access_token": f"access-{self.calls}",
            "refresh_token": f"refresh-{self.calls}",
            "expires_at": 10_000.0 + 28_800,
        }


class Clock:
    now = 10_000.0

    def __call__(self) -> float:
        return self.now


def keeper_for(tmp_path: Path, refresher: Refresher, clock: Clock) -> TokenKeeper:
    return TokenKeeper(
        CredentialStore(tmp_path),
        "claude",
        refresher,
        refresh_ahead=3600,
        check_interval=60,
        login_hint="run ./scripts/login.sh claude",
        clock=clock,
    )


def save(keeper: TokenKeeper, expires_at: float, refresh_token: str = "refresh-0") -> None:
    keeper.store.save(
        "claude",
        "claude-a",
        {"access_token": "access-0", "refresh_token": refresh_token, "expires_at": expires_at},
    )


async def test_twenty_concurrent_requests_share_one_refresh(tmp_path: Path) -> None:
    refresher, clock = Refresher(delay=0.05), Clock()
    keeper = keeper_for(tmp_path, refresher, clock)
    save(keeper, expires_at=clock.now - 1)
    results = await asyncio.gather(*(keeper.access("claude-a") for _ in range(20)))
    assert refresher.calls == 1
    assert {r.data["access_token"] for r in results} == {"access-1"}
    on_disk = CredentialStore(tmp_path).get("claude", "claude-a")
    assert on_disk is not None and on_disk.data["refresh_token"] == "refresh-1"
    assert on_disk.data["last_refresh"] == clock.now


async def test_a_fresh_token_is_used_without_refreshing(tmp_path: Path) -> None:
    refresher, clock = Refresher(), Clock()
    keeper = keeper_for(tmp_path, refresher, clock)
    save(keeper, expires_at=clock.now + 7200)
    assert (await keeper.access("claude-a")).data["access_token"] == "access-0"
    assert refresher.calls == 0


async def test_background_refresh_renews_only_tokens_due(tmp_path: Path) -> None:
    refresher, clock = Refresher(), Clock()
    keeper = keeper_for(tmp_path, refresher, clock)
    save(keeper, expires_at=clock.now + 7200)
    await keeper.refresh_due()
    assert refresher.calls == 0
    clock.now += 7200 - 3600 + 1
    await keeper.refresh_due()
    assert refresher.calls == 1
    assert keeper.store.get("claude", "claude-a").data["access_token"] == "access-1"


async def test_a_cancelled_caller_does_not_abandon_the_refresh(tmp_path: Path) -> None:
    refresher, clock = Refresher(delay=0.1), Clock()
    keeper = keeper_for(tmp_path, refresher, clock)
    save(keeper, expires_at=clock.now - 1)
    caller = asyncio.create_task(keeper.access("claude-a"))
    await asyncio.sleep(0.02)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.sleep(0.15)
    assert keeper.store.get("claude", "claude-a").data["refresh_token"] == "refresh-1"


async def test_failures_back_off_and_a_refused_grant_needs_a_new_login(tmp_path: Path) -> None:
    refresher, clock = Refresher(), Clock()
    keeper = keeper_for(tmp_path, refresher, clock)
    save(keeper, expires_at=clock.now + 60)
    refresher.fail_with = OAuthError("token endpoint answered 503", rejected=False)
    await keeper.refresh_due()
    credential = keeper.store.get("claude", "claude-a")
    assert keeper.state(credential)["state"] == "refresh_failing"
    await keeper.refresh_due()
    assert refresher.calls == 1  # backing off
    clock.now += 31
    refresher.fail_with = OAuthError("token endpoint answered 400: invalid_grant", rejected=True)
    with pytest.raises(CredentialUnusable, match=r"login\.sh claude"):
        await keeper.refresh("claude-a")
    shown = keeper.state(credential)
    assert shown["state"] == "login_required" and shown["fix"].endswith("login.sh claude")
    assert not keeper.usable(credential)
    assert "refresh-0" not in str(shown) and "access-0" not in str(shown)
    save(keeper, expires_at=clock.now + 7200, refresh_token="refresh-new-login")
    assert keeper.usable(keeper.store.get("claude", "claude-a"))


async def test_a_removed_credential_is_unusable_with_the_fix(tmp_path: Path) -> None:
    keeper = keeper_for(tmp_path, Refresher(), Clock())
    with pytest.raises(CredentialUnusable, match="no longer exists"):
        await keeper.access("claude-gone")
