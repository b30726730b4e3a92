"""Browser-free parts of the AI Studio service: imports, file writes, URLs, page pool."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from providers.aistudio.errors import PoolBusy
from providers.aistudio.gemini_client import browser_headers, looks_signed_out, rewrite_url
from providers.aistudio.page_pool import PagePool
from providers.aistudio.service import AIStudioService, ServiceSettings
from providers.aistudio.session_manager import (
    InvalidSessionImport,
    SessionManager,
    normalize_import,
)
from providers.aistudio.ws_client import relay_connect_url
from router.config import AIStudioConfig
from router.credentials.atomic import write_private_json


def test_cookie_export_becomes_playwright_storage_state() -> None:
    exported = [
        {
            "name": "SID",
            "value": "abc",
            "domain": ".google.com",
            "expirationDate": 1900000000.5,
            "sameSite": "no_restriction",
            "secure": True,
        },
        {"name": "NID", "value": "x", "domain": ".google.com", "session": True},
    ]
    state = normalize_import(exported)
    assert state["origins"] == []
    sid, nid = state["cookies"]
    assert sid == {
        "name": "SID",
        "value": "abc",
        "domain": ".google.com",
        "path": "/",
        "expires": 1900000000.5,
        "httpOnly": False,
        "secure": True,
        "sameSite": "None",
    }
    assert nid["expires"] == -1
    assert "sameSite" not in nid


@pytest.mark.parametrize("body", [{}, [], {"cookies": []}, [{"name": "x"}], "cookie=1", [1]])
def test_bad_imports_are_refused(body: Any) -> None:
    with pytest.raises(InvalidSessionImport):
        normalize_import(body)


def test_private_json_is_0600_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "auth" / "state.json"
    write_private_json(target, {"cookies": [1]})
    write_private_json(target, {"cookies": [2]})
    assert json.loads(target.read_text()) == {"cookies": [2]}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["state.json"]


def test_session_manager_keeps_account_beside_storage_state(tmp_path: Path) -> None:
    manager = SessionManager(tmp_path / "s.json")
    assert manager.load() is None and manager.expired
    manager.imported("me@example.com")
    manager.save({"cookies": [], "origins": []})
    again = SessionManager(tmp_path / "s.json")
    assert again.load() == {"cookies": [], "origins": []}
    assert again.account == "me@example.com"
    assert again.state == "unverified" and not again.expired
    again.forget()
    assert not (tmp_path / "s.json").exists() and again.expired


def test_gemini_url_is_rewritten_to_api_base_without_key() -> None:
    url = "https://generativelanguage.googleapis.com/v1beta/models/g:streamGenerateContent?alt=sse&key=SECRET"
    assert rewrite_url(url, "http://127.0.0.1:9/base/") == (
        "http://127.0.0.1:9/base/v1beta/models/g:streamGenerateContent?alt=sse"
    )
    headers = browser_headers({"x-goog-api-key": ["k"], "Content-Type": ["application/json"]})
    assert headers == {"Content-Type": "application/json"}


def test_sign_in_urls_are_recognised() -> None:
    origin = "https://aistudio.google.com/"
    assert looks_signed_out("https://accounts.google.com/v3/signin/identifier", origin)
    assert looks_signed_out("https://aistudio.google.com/signin?x=1", origin)
    assert not looks_signed_out("https://aistudio.google.com/prompts/new_chat", origin)


def test_relay_url_carries_key_and_session_name() -> None:
    url = relay_connect_url("ws://127.0.0.1:8317/v1/ws", "k-1", "studio")
    assert url.query["auth_token"] == "k-1" and url.query["name"] == "studio"
    assert "auth_token" not in relay_connect_url("ws://127.0.0.1:8317/v1/ws", "", "s").query


class StubPage:
    generation = 1
    usable = True

    async def close(self) -> None:
        self.usable = False


def stub_pool(size: int, queue_size: int, timeout: float) -> tuple[PagePool, list[StubPage]]:
    opened: list[StubPage] = []

    async def factory() -> Any:
        opened.append(StubPage())
        return opened[-1]

    return PagePool(size, queue_size, timeout, factory, lambda: 1), opened


async def test_pool_queue_is_bounded_and_cancelled_waiters_leave_it() -> None:
    pool, opened = stub_pool(size=1, queue_size=1, timeout=10)
    holder_in, holder_out = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with pool.lease():
            holder_in.set()
            await holder_out.wait()

    async def use() -> None:
        async with pool.lease():
            pass

    async with asyncio.timeout(5):
        holder = asyncio.create_task(hold())
        await holder_in.wait()
        queued = asyncio.create_task(use())
        await asyncio.sleep(0)
        assert pool.describe()["waiting"] == 1
        with pytest.raises(PoolBusy, match="queued"):
            await use()
        queued.cancel()
        await asyncio.gather(queued, return_exceptions=True)
        assert pool.describe()["waiting"] == 0
        holder_out.set()
        await holder
        await use()
    assert len(opened) == 1, "the page is reused after each lease"


async def test_pool_wait_times_out() -> None:
    pool, _ = stub_pool(size=1, queue_size=4, timeout=0.2)
    async with pool.lease(), asyncio.timeout(5):
        with pytest.raises(PoolBusy, match="no page became free"):
            async with pool.lease():
                pass


def service_with(tmp_path: Path, **config: Any) -> AIStudioService:
    """A service that is never started: no browser, no relay connection."""
    settings = ServiceSettings(relay_url="ws://127.0.0.1:9/v1/ws", auth_dir=tmp_path)
    return AIStudioService(AIStudioConfig(**config), settings)


async def saves_within(service: AIStudioService, seconds: float) -> int:
    """Storage-state writes the periodic refresh makes in ``seconds`` (browser stubbed)."""
    writes = 0

    async def storage_state() -> dict[str, Any]:
        nonlocal writes
        writes += 1
        return {"cookies": [{"name": "SID", "value": f"v{writes}"}], "origins": []}

    service.browser.storage_state = storage_state  # type: ignore[method-assign]
    service.session.mark_logged_in()
    refresher = asyncio.create_task(service._refresh_storage_periodically())
    await asyncio.sleep(seconds)
    refresher.cancel()
    await asyncio.gather(refresher, return_exceptions=True)
    return writes


async def test_storage_refresh_follows_the_configured_interval(tmp_path: Path) -> None:
    fast = service_with(tmp_path / "fast", storage_refresh_interval=0.05)
    assert await saves_within(fast, 0.4) >= 3
    saved = json.loads((tmp_path / "fast" / "aistudio-storage.json").read_text())
    assert saved["cookies"][0]["value"].startswith("v")
    slow = service_with(tmp_path / "slow", storage_refresh_interval=300)
    assert await saves_within(slow, 0.4) == 0
    assert not (tmp_path / "slow" / "aistudio-storage.json").exists()


def test_quota_cooldown_follows_the_configured_length(tmp_path: Path) -> None:
    service = service_with(tmp_path, quota_cooldown=12.5)
    service._enter_cooldown("upstream answered 429")
    quota = service.health()["quota"]
    assert quota["state"] == "cooldown"
    assert 12 < quota["remaining_seconds"] <= 12.5
