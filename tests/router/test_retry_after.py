"""Retry-After from an upstream 429: seconds and HTTP dates, capped, odd values ignored.

Before the fix ``99999999`` rested a credential for three years, ``inf`` turned every
request for the model into a 500 and put ``Infinity`` into /v1/health, dates were ignored.
"""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from router.config import ConfigError, read_config
from router.upstreams.retry_after import retry_after_seconds
from tests.conftest import StartRouter, health_headers, provider
from tests.fakes.behaviours import Status
from tests.fakes.openai import OpenAIFake

MESSAGES = [{"role": "user", "content": "hi"}]
NOW = 1_800_000_000.0


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"non-JSON number {constant}")

    return json.loads(text, parse_constant=refuse)


async def get_strict(url: str, headers: dict[str, str] | None = None) -> Any:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return strict_json(await response.text())


async def one_429(router_url: str) -> tuple[int, str, dict[str, Any]]:
    """Sends one chat request; returns status, Retry-After and the strictly parsed body."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            router_url + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES}
        ) as response,
    ):
        body = strict_json(await response.text())
        return response.status, response.headers.get("Retry-After", ""), body


def only_provider(fake: OpenAIFake, **cooldown: float) -> dict[str, Any]:
    return {
        "routing": {"max-retries": 0, "cooldown": {"initial": 1, **cooldown}},
        "providers": [provider("only", fake.base_url + "/v1", [fake.key], ["m"])],
    }


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        ("99999999", 3590, 3600),
        ("inf", 0, 1),
        ("nan", 0, 1),
        ("-5", 0, 1),
        ("garbage", 0, 1),
        ("past-date", 0, 1),
        ("date-in-30s", 25, 31),
    ],
)
async def test_odd_retry_after_values_rest_sanely_and_answers_stay_json(
    router_factory: StartRouter, openai_fake: OpenAIFake, header: str, low: float, high: float
) -> None:
    router = await router_factory(only_provider(openai_fake))
    value = {
        "past-date": formatdate(time.time() - 30, usegmt=True),
        "date-in-30s": formatdate(time.time() + 30, usegmt=True),
    }.get(header, header)
    openai_fake.script.push(Status(429, headers={"Retry-After": value}))
    status, retry_after, body = await one_429(router.url)
    assert status == 429 and "rate limited" in body["error"]["message"]
    assert retry_after == "" or 1 <= int(retry_after) <= 3600
    health = await get_strict(router.url + "/v1/health", health_headers(router))
    cooldowns = health["providers"]["only"]["cooldowns"]
    assert low <= cooldowns[0]["remaining_s"] <= high
    listed = await get_strict(router.url + "/v1/management/cooldowns")
    assert listed["cooldowns"]["only"][0]["remaining_s"] <= 3600


async def test_the_cap_is_configurable(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await router_factory(only_provider(openai_fake, **{"retry-after-max": 120}))
    openai_fake.script.push(Status(429, headers={"Retry-After": "99999999"}))
    await one_429(router.url)
    status, retry_after, body = await one_429(router.url)
    assert status == 429 and "cooling down" in body["error"]["message"]
    assert 115 <= int(retry_after) <= 120
    assert len(openai_fake.requests) == 1


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 2.5 ", 2.5),
        ("99999999", 3600.0),
        ("9" * 400, 3600.0),
        ("Thu, 15 Jan 2027 08:00:30 GMT", 30.0),
        ("Thursday, 15-Jan-27 08:00:30 GMT", 30.0),
        ("Thu Jan 15 08:00:30 2027", 30.0),
        ("Thu, 15 Jan 2027 09:00:30 +0100", 30.0),
    ],
)
def test_retry_after_parses_seconds_and_every_http_date_form(value: str, seconds: float) -> None:
    assert retry_after_seconds(value, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "-5",
        "+5",
        "inf",
        "Infinity",
        "nan",
        "1e3",
        "0x10",
        "soon",
        "Thu, 15 Jan 2027 07:59:00 GMT",
        "Thu, 45 Jan 2027 08:00:30 GMT",
    ],
)
def test_retry_after_rejects_unusable_values(value: str | None) -> None:
    assert retry_after_seconds(value, now=NOW) is None


def test_retry_after_caps_at_the_given_limit() -> None:
    assert retry_after_seconds("700", limit=600, now=NOW) == 600
    assert retry_after_seconds("Thu, 15 Jan 2027 09:00:00 GMT", limit=60, now=NOW) == 60


def test_a_bad_cap_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"routing": {"cooldown": {"retry-after-max": -1}}}))
    with pytest.raises(ConfigError) as caught:
        read_config(path, env={})
    assert caught.value.problems == [
        "routing.cooldown.retry-after-max: expected a number > 0, got -1.0"
    ]
