"""/v1/health: status for anyone; accounts, e-mails, expiries and cooldowns for key holders."""

from __future__ import annotations

import json
import time
from pathlib import Path

import aiohttp

from router.credentials import CredentialStore
from router.server import RunningRouter
from tests.conftest import StartRouter, health_headers

EMAIL = "ada@example.com"
SECRET = "management-secret"
CLIENT_KEY = "client-key"


def store_claude_account(auth_dir: Path) -> None:
    CredentialStore(auth_dir).save(
        "claude",
        f"claude-{EMAIL}",
        {
            "access_token": "sk-ant-oat01-hidden",
            "refresh_token": "sk-ant-ort01-hidden",
            "expires_at": time.time() + 3600,
            "email": EMAIL,
        },
    )


async def get_health(router: RunningRouter, headers: dict[str, str]) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(router.url + "/v1/health", headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_public_view_is_status_only(router_factory: StartRouter, tmp_path: Path) -> None:
    store_claude_account(tmp_path / "auth")
    router = await router_factory({"api-keys": [CLIENT_KEY], "management": {"secret": SECRET}})
    for headers in ({}, {"Authorization": "Bearer placeholder"}, {"x-api-key": "nope"}):
        status, public = await get_health(router, headers)
        assert status == 200
        assert set(public) == {"status", "details"}, public
        assert public["status"] == "ok"
        assert EMAIL not in json.dumps(public) and "expires" not in json.dumps(public)


async def test_client_key_secret_or_relay_key_show_details(
    router_factory: StartRouter, tmp_path: Path
) -> None:
    store_claude_account(tmp_path / "auth")
    router = await router_factory({"api-keys": [CLIENT_KEY], "management": {"secret": SECRET}})
    for headers in (
        {"Authorization": f"Bearer {CLIENT_KEY}"},
        {"x-api-key": CLIENT_KEY},
        {"X-Management-Key": SECRET},
        health_headers(router),
    ):
        status, health = await get_health(router, headers)
        assert status == 200, headers
        claude = health["providers"]["llmux-claude"]
        assert [a["label"] for a in claude["accounts"]] == [EMAIL], headers
        assert "expires_at" in claude["accounts"][0]
        assert "aistudio" in health["services"]
        assert "hidden" not in json.dumps(health)


async def test_wrong_management_secret_is_the_guards_401(router_factory: StartRouter) -> None:
    router = await router_factory({"management": {"secret": SECRET}})
    status, body = await get_health(router, {"X-Management-Key": "guess"})
    assert status == 401 and body["error"]["type"] == "authentication_error"


async def test_default_config_hides_details_even_on_loopback(
    router_factory: StartRouter, tmp_path: Path
) -> None:
    """No keys and no secret: loopback is no credential (any local page or process is)."""
    store_claude_account(tmp_path / "auth")
    router = await router_factory({})
    status, public = await get_health(router, {})
    assert status == 200 and set(public) == {"status", "details"}
    status, health = await get_health(router, health_headers(tmp_path / "auth"))
    assert health["providers"]["llmux-claude"]["accounts"][0]["label"] == EMAIL
