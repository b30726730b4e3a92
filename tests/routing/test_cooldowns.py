"""Cooldowns: doubling rests, Retry-After, auth failures for every model, quota, reset."""

from __future__ import annotations

import pytest

from router.config.schema import CooldownConfig
from router.routing.cooldown import Cooldowns
from tests.routing.stubs import ManualClock

CONFIG = CooldownConfig(initial=1.0, max=8.0, auth_failure=600.0, quota=60.0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def cooldowns(clock: ManualClock) -> Cooldowns:
    return Cooldowns(CONFIG, clock=clock)


def test_rest_doubles_with_each_failure_up_to_the_cap(cooldowns: Cooldowns) -> None:
    rests = [cooldowns.fail("p", "k", "m", "boom") for _ in range(6)]
    assert rests == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_remaining_counts_down_with_the_clock(cooldowns: Cooldowns, clock: ManualClock) -> None:
    cooldowns.fail("p", "k", "m", "boom", retry_after=5)
    assert cooldowns.remaining("p", "k", "m") == 5
    clock.advance(2)
    assert cooldowns.remaining("p", "k", "m") == 3
    clock.advance(3)
    assert cooldowns.remaining("p", "k", "m") == 0


def test_a_cooldown_is_per_model_and_per_credential(cooldowns: Cooldowns) -> None:
    cooldowns.fail("p", "k", "m", "boom", retry_after=5)
    assert cooldowns.remaining("p", "k", "other") == 0
    assert cooldowns.remaining("p", "other-key", "m") == 0
    assert cooldowns.remaining("other-provider", "k", "m") == 0


def test_retry_after_replaces_the_doubling(cooldowns: Cooldowns) -> None:
    assert cooldowns.fail("p", "k", "m", "slow down", retry_after=42) == 42


def test_auth_failure_rests_the_credential_for_every_model(cooldowns: Cooldowns) -> None:
    assert cooldowns.fail("p", "k", "m", "401", auth=True) == 600
    assert cooldowns.remaining("p", "k", "m") == 600
    assert cooldowns.remaining("p", "k", "any-other-model") == 600
    assert cooldowns.remaining("p", "other-key", "m") == 0


def test_quota_without_retry_after_rests_the_quota_time(cooldowns: Cooldowns) -> None:
    assert cooldowns.fail("p", "k", "m", "usage limit", quota=True) == 60
    assert cooldowns.fail("p", "k", "m", "usage limit", quota=True, retry_after=7) == 7


def test_success_clears_the_count_so_the_next_rest_starts_small(cooldowns: Cooldowns) -> None:
    for _ in range(3):
        cooldowns.fail("p", "k", "m", "boom")
    cooldowns.succeed("p", "k", "m")
    assert cooldowns.remaining("p", "k", "m") == 0
    assert cooldowns.fail("p", "k", "m", "boom") == 1.0


def test_reset_by_provider_credential_or_all(cooldowns: Cooldowns) -> None:
    cooldowns.fail("a", "k1", "m", "x")
    cooldowns.fail("a", "k2", "m", "x")
    cooldowns.fail("b", "k1", "m", "x")
    assert cooldowns.reset("a", "k1") == 1
    assert cooldowns.remaining("a", "k1", "m") == 0
    assert cooldowns.remaining("a", "k2", "m") > 0
    assert cooldowns.reset("a") == 1
    assert cooldowns.reset() == 1
    assert cooldowns.remaining("b", "k1", "m") == 0


def test_active_lists_only_current_cooldowns_of_one_provider(
    cooldowns: Cooldowns, clock: ManualClock
) -> None:
    cooldowns.fail("p", "k", "m", "rate limited", retry_after=10)
    cooldowns.fail("p", "k", "short", "blip", retry_after=1)
    cooldowns.fail("q", "k", "m", "elsewhere", retry_after=10)
    clock.advance(2)
    assert cooldowns.active("p") == [
        {"credential": "k", "model": "m", "remaining_s": 8.0, "reason": "rate limited"}
    ]


def test_old_states_are_pruned_once_the_table_is_large(
    cooldowns: Cooldowns, clock: ManualClock
) -> None:
    for index in range(4096):
        cooldowns.fail("p", f"k{index}", "m", "x", retry_after=1)
    clock.advance(CONFIG.auth_failure + 2)
    cooldowns.fail("p", "fresh", "m", "x", retry_after=1)
    assert cooldowns.reset() == 1
