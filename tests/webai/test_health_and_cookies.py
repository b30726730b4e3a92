"""/health outcomes, the Gemini cookie directory and secret redaction."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import aiohttp
import g4f.cookies

from tests.webai.g4f_test_providers import LEAKED_COOKIE_VALUE
from tests.webai.helpers import CHAT_PATH, auth_headers, chat_body


async def get_health(base_url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(base_url + "/health") as response:
        assert response.status == 200
        return await response.json()


async def post_chat(base_url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(base_url + CHAT_PATH, json=body, headers=auth_headers()) as response,
    ):
        return response.status, await response.json()


def outcomes_by_name(health: dict[str, Any]) -> dict[str, Any]:
    return {entry["name"]: entry["last_outcome"] for entry in health["providers"]}


async def test_health_lists_configured_providers_before_any_request(start_service: Any) -> None:
    base_url = await start_service("Broken", "FixedText")
    health = await get_health(base_url)
    assert [entry["name"] for entry in health["providers"]] == ["Broken", "FixedText"]
    assert outcomes_by_name(health) == {"Broken": None, "FixedText": None}
    assert health["models"] == ["gpt-webai"]


async def test_health_shows_last_outcome_of_each_provider(start_service: Any) -> None:
    base_url = await start_service("Broken", "FixedText")
    status, _ = await post_chat(base_url, chat_body())
    assert status == 200
    outcomes = outcomes_by_name(await get_health(base_url))
    assert outcomes["Broken"]["status"] == "error"
    assert outcomes["Broken"]["reason"] == "RuntimeError: broken provider exploded"
    assert outcomes["FixedText"]["status"] == "ok"
    assert outcomes["FixedText"]["reason"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", outcomes["FixedText"]["at"])


async def test_health_records_stream_interrupted_after_start(start_service: Any) -> None:
    base_url = await start_service("FailMidStream")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            base_url + CHAT_PATH, json=chat_body(stream=True), headers=auth_headers()
        ) as response,
    ):
        await response.read()
    outcome = outcomes_by_name(await get_health(base_url))["FailMidStream"]
    assert outcome["status"] == "error"
    assert "lost the upstream connection" in outcome["reason"]


def write_gemini_cookies(cookies_dir: Path, psid: str) -> None:
    cookies_dir.mkdir(parents=True, exist_ok=True)
    cookies = [
        {"domain": ".google.com", "name": "__Secure-1PSID", "value": psid},
        {"domain": ".google.com", "name": "__Secure-1PSIDTS", "value": "sidts-value-0123456789"},
    ]
    (cookies_dir / "gemini.json").write_text(json.dumps(cookies))


async def test_gemini_cookies_are_loaded_from_the_configured_dir(
    start_service: Any, tmp_path: Path
) -> None:
    cookies_dir = tmp_path / "gemini-cookies"
    write_gemini_cookies(cookies_dir, "psid-value-0123456789")
    base_url = await start_service("FixedText", cookies_dir=str(cookies_dir))
    assert g4f.cookies.get_cookies_dir() == str(cookies_dir.resolve())
    google = g4f.cookies.get_cookies(".google.com", raise_requirements_error=False)
    assert google["__Secure-1PSID"] == "psid-value-0123456789"
    assert google["__Secure-1PSIDTS"] == "sidts-value-0123456789"
    health = await get_health(base_url)
    assert health["cookies"] == {".google.com": ["__Secure-1PSID", "__Secure-1PSIDTS"]}
    assert "psid-value-0123456789" not in json.dumps(health)


async def test_missing_cookies_dir_is_created_owner_only(
    start_service: Any, tmp_path: Path
) -> None:
    cookies_dir = tmp_path / "auth" / "webai-cookies"
    await start_service("FixedText", cookies_dir=str(cookies_dir))
    assert cookies_dir.is_dir()
    assert stat.S_IMODE(cookies_dir.stat().st_mode) == 0o700


async def test_cookie_values_in_provider_errors_are_redacted(
    start_service: Any, tmp_path: Path
) -> None:
    cookies_dir = tmp_path / "gemini-cookies"
    write_gemini_cookies(cookies_dir, LEAKED_COOKIE_VALUE)
    base_url = await start_service("LeakCookie", cookies_dir=str(cookies_dir))
    status, body = await post_chat(base_url, chat_body())
    assert status == 502
    assert "upstream rejected cookie [redacted]" in body["error"]["message"]
    health = await get_health(base_url)
    assert LEAKED_COOKIE_VALUE not in json.dumps(body) + json.dumps(health)
