"""The management guard: loopback by default, the secret, slow-downs after failures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import make_mocked_request

from router.config import ConfigError, read_config
from router.config.secret import ManagementSecret, hash_secret
from router.config.subscriptions import ManagementConfig
from router.errors import ProxyError
from router.management.guard import ManagementGuard
from router.management.throttle import FailureThrottle, address_group
from tests.conftest import StartRouter

SECRET = "correct horse battery staple"


def request_from(address: str, headers: dict[str, str] | None = None):
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (address, 40000) if name == "peername" else default
    )
    return make_mocked_request("GET", "/v1/auth/llmux/claude/status", headers, transport=transport)


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_remote_clients_are_refused_unless_allowed() -> None:
    guard = ManagementGuard(ManagementConfig())
    await guard.check(request_from("127.0.0.1"))
    await guard.check(request_from("::1"))
    with pytest.raises(ProxyError) as refused:
        await guard.check(request_from("203.0.113.9"))
    assert refused.value.status == 403 and "management.secret" in refused.value.message
    allowed = ManagementGuard(ManagementConfig(secret=SECRET, allow_remote=True))
    await allowed.check(request_from("203.0.113.9", {"X-Management-Key": SECRET}))


async def test_wrong_guesses_are_slowed_down_and_the_right_secret_still_works() -> None:
    clock = Clock()
    config = ManagementConfig(secret=SECRET, allow_remote=True, max_delay=0.3)
    guard = ManagementGuard(config, clock=clock)
    wrong = {"Authorization": "Bearer nope"}
    for _ in range(5):
        with pytest.raises(ProxyError) as failed:
            await guard.check(request_from("198.51.100.7", wrong))
        assert failed.value.status == 401 and "slowly" not in failed.value.message
    started = time.monotonic()
    with pytest.raises(ProxyError) as slowed:
        await guard.check(request_from("198.51.100.7", wrong))
    assert slowed.value.status == 401 and "answered slowly" in slowed.value.message
    assert time.monotonic() - started >= 0.25
    await guard.check(request_from("198.51.100.7", {"Authorization": f"Bearer {SECRET}"}))
    with pytest.raises(ProxyError) as other:
        await guard.check(request_from("198.51.100.8", wrong))
    assert "slowly" not in other.value.message
    clock.now += 1801
    with pytest.raises(ProxyError) as forgotten:
        await guard.check(request_from("198.51.100.7", wrong))
    assert "slowly" not in forgotten.value.message


def test_loopback_addresses_and_an_ipv6_64_are_one_group_each() -> None:
    assert {address_group(f"127.0.{i}.{i + 1}") for i in range(5)} == {"loopback"}
    assert address_group("::1") == address_group("::ffff:127.0.0.9") == "loopback"
    assert address_group("2001:db8::1") == address_group("2001:db8::ffff:2")
    assert address_group("2001:db8::1") != address_group("2001:db8:0:1::1")
    assert address_group("198.51.100.7") != address_group("198.51.100.8")


def test_the_global_budget_slows_guesses_spread_over_many_addresses() -> None:
    throttle = FailureThrottle(max_failures=5, forget_after=1800, max_delay=10)
    delays = [throttle.fail(f"198.51.{i // 250}.{i % 250}", 100.0) for i in range(53)]
    assert delays[:50] == [0.0] * 50 and delays[50:] == [0.25, 0.5, 1.0]


def test_the_secret_is_kept_hashed_and_a_hash_can_be_configured() -> None:
    plain = ManagementSecret(SECRET)
    assert SECRET not in plain.hashed and plain.hashed.startswith("scrypt$")
    assert plain.matches(SECRET) and not plain.matches(SECRET + "!")
    hashed = ManagementSecret(hash_secret(SECRET))
    assert hashed.matches(SECRET) and not hashed.matches("")
    assert not ManagementSecret.well_formed("scrypt$1$2")
    assert SECRET not in repr(ManagementConfig(secret=SECRET))


async def call(method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.request(method, url, **kwargs) as response:
        return response.status, await response.json()


async def test_management_routes_need_the_secret_not_a_client_key(
    router_factory: StartRouter,
) -> None:
    router = await router_factory(
        {"api-keys": ["client-key"], "management": {"secret": hash_secret(SECRET)}}
    )
    status_url = router.url + "/v1/auth/llmux/claude/status"
    status, answer = await call("GET", status_url, headers={"Authorization": "Bearer client-key"})
    assert status == 401 and "management secret" in answer["error"]["message"]
    status, answer = await call("GET", status_url, headers={"X-Management-Key": SECRET})
    assert status == 200 and answer["accounts"] == [] and "login.sh claude" in answer["fix"]
    status, _ = await call("GET", router.url + "/v1/models", headers={"X-Management-Key": SECRET})
    assert status == 401
    for _ in range(6):
        status, answer = await call("GET", status_url, headers={"X-Management-Key": "wrong"})
    assert status == 401 and "answered slowly" in answer["error"]["message"]
    status, answer = await call("GET", status_url, headers={"X-Management-Key": SECRET})
    assert status == 200


async def test_aistudio_routes_are_behind_the_same_guard(router_factory: StartRouter) -> None:
    router = await router_factory({"management": {"secret": SECRET}})
    status, answer = await call("GET", router.url + "/v1/auth/aistudio/status")
    assert status == 401 and "management secret" in answer["error"]["message"]


async def test_without_a_secret_answers_say_how_to_set_one(router_factory: StartRouter) -> None:
    router = await router_factory({})
    async with (
        aiohttp.ClientSession() as http,
        http.get(router.url + "/v1/auth/llmux/chatgpt/status") as response,
    ):
        assert response.status == 200
        assert "management.secret" in response.headers["X-Management-Notice"]
    guarded = await router_factory({"management": {"secret": SECRET}})
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            guarded.url + "/v1/auth/llmux/chatgpt/status", headers={"X-Management-Key": SECRET}
        ) as response,
    ):
        assert response.status == 200 and "X-Management-Notice" not in response.headers


async def test_cooldowns_are_listed_and_reset(router_factory: StartRouter) -> None:
    router = await router_factory({})
    cooldowns = router.state.cooldowns
    cooldowns.fail("llmux-claude", "claude-a", "m", "rate limited", retry_after=600)
    cooldowns.fail("llmux-claude", "claude-b", "m", "rate limited", retry_after=600)
    status, listed = await call("GET", router.url + "/v1/management/cooldowns")
    assert status == 200 and len(listed["cooldowns"]["llmux-claude"]) == 2
    status, reset = await call(
        "POST", router.url + "/v1/management/cooldowns/reset?credential=claude-a"
    )
    assert status == 200 and reset["cleared"] == 1
    assert cooldowns.remaining("llmux-claude", "claude-a", "m") == 0
    assert cooldowns.remaining("llmux-claude", "claude-b", "m") > 0
    status, reset = await call("POST", router.url + "/v1/management/cooldowns/reset")
    assert reset["cleared"] == 1


def test_a_bad_max_delay_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"management": {"max-delay": 3600}}))
    with pytest.raises(ConfigError) as caught:
        read_config(path, env={})
    assert caught.value.problems == [
        "management.max-delay: expected a number of seconds from 0 to 600"
    ]
