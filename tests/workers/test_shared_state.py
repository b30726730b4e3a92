"""The embedded shared state as two workers see it: two EmbeddedState objects over one
directory stand for two processes (SQLite and flock do not care which)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from router.config.schema import CooldownConfig
from router.credentials import CredentialStore
from router.credentials.tokens import TokenKeeper
from router.errors import ProxyError
from router.formats.ir import Format, ReasoningPart
from router.formats.reasoning_cache import ReasoningCache
from router.routing.cooldown import Cooldowns
from router.shared import EmbeddedState
from router.shared import embedded as embedded_module
from router.usage.keys import IssuedKey, Limits
from router.usage.limits import KeyLimits
from router.usage.merge import merge_expositions
from router.usage.prices import Cost


@pytest.fixture
def pair(tmp_path: Path) -> tuple[EmbeddedState, EmbeddedState]:
    return EmbeddedState(tmp_path / "shared", 0), EmbeddedState(tmp_path / "shared", 1)


def test_a_cooldown_set_in_one_worker_rests_the_credential_in_the_other(
    pair: tuple[EmbeddedState, EmbeddedState],
) -> None:
    first = Cooldowns(CooldownConfig(), shared=pair[0])
    second = Cooldowns(CooldownConfig(), shared=pair[1])
    assert second.remaining("openai", "key1", "gpt-4o") == 0
    rest = first.fail("openai", "key1", "gpt-4o", "429", retry_after=30)
    assert rest == 30
    assert 29 < second.remaining("openai", "key1", "gpt-4o") <= 30
    assert second.active("openai")[0]["reason"] == "429"
    second.fail("openai", "key1", "gpt-4o", "500")
    assert first.active("openai")[0]["reason"] == "500"
    assert [r.failures for r in pair[0].cooldowns()] == [2]
    assert first.reset("openai") == 1
    assert second.remaining("openai", "key1", "gpt-4o") == 0


def test_a_success_in_one_worker_ends_the_failure_count_everywhere(
    pair: tuple[EmbeddedState, EmbeddedState],
) -> None:
    first = Cooldowns(CooldownConfig(initial=1, max=60), shared=pair[0])
    second = Cooldowns(CooldownConfig(initial=1, max=60), shared=pair[1])
    first.fail("p", "c", "m", "500")
    second.succeed("p", "c", "m")
    assert first.remaining("p", "c", "m") == 0
    assert first.fail("p", "c", "m", "500") == 1, "the count started again at 1"


def test_reads_only_go_to_the_table_after_a_change(
    pair: tuple[EmbeddedState, EmbeddedState], monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = Cooldowns(CooldownConfig(), shared=pair[1])
    reads = 0
    original = pair[1].cooldowns

    def counted() -> list[Any]:
        nonlocal reads
        reads += 1
        return original()

    monkeypatch.setattr(pair[1], "cooldowns", counted)
    for _ in range(100):
        reader.remaining("p", "c", "m")
    assert reads == 0
    Cooldowns(CooldownConfig(), shared=pair[0]).fail("p", "c", "m", "500")
    for _ in range(100):
        reader.remaining("p", "c", "m")
    assert reads == 1


async def test_a_lock_is_held_by_one_worker_at_a_time(
    pair: tuple[EmbeddedState, EmbeddedState],
) -> None:
    order: list[str] = []

    async def hold(state: EmbeddedState, name: str) -> None:
        async with state.lock("refresh-claude-ada"):
            order.append(f"{name} in")
            await asyncio.sleep(0.2)
            order.append(f"{name} out")

    await asyncio.gather(hold(pair[0], "first"), hold(pair[1], "second"))
    assert order in (
        ["first in", "first out", "second in", "second out"],
        ["second in", "second out", "first in", "first out"],
    )


def test_documents_of_silent_workers_are_dropped(
    pair: tuple[EmbeddedState, EmbeddedState], monkeypatch: pytest.MonkeyPatch
) -> None:
    pair[0].publish({"pid": 10})
    pair[1].publish({"pid": 11})
    assert {w: d["pid"] for w, d in pair[0].documents().items()} == {0: 10, 1: 11}
    pair[1].forget()
    monkeypatch.setattr(embedded_module, "DOCUMENTS_CACHE", 0.0)
    assert set(pair[0].documents()) == {0}
    monkeypatch.setattr(embedded_module.time, "time", lambda: time.time_ns() / 1e9 + 60)
    assert pair[0].documents() == {}


async def test_two_workers_refresh_a_token_once(
    tmp_path: Path, pair: tuple[EmbeddedState, EmbeddedState]
) -> None:
    """Refresh tokens rotate: a second refresh with the old one would log the user out."""
    auth = tmp_path / "auth"
    auth.mkdir()
    CredentialStore(auth).save(
        "claude",
        "claude-ada",
        {"access_token": "old", "refresh_token": "r1", "expires_at": 0, "last_refresh": 1.0},
    )
    grants: list[str] = []

    async def refresher(credential: Any) -> dict[str, Any]:
        grants.append(credential.data["refresh_token"])
        await asyncio.sleep(0.2)
        return {"access_token": "new", "refresh_token": "r2", "expires_at": time.time() + 3600}

    keepers = [
        TokenKeeper(
            CredentialStore(auth, shared=state),
            "claude",
            refresher,
            refresh_ahead=300,
            check_interval=60,
            login_hint="log in",
        )
        for state in pair
    ]
    tokens = await asyncio.gather(*(k.access("claude-ada") for k in keepers))
    assert grants == ["r1"]
    assert [t.data["access_token"] for t in tokens] == ["new", "new"]


def _worker_metrics(requests: float, in_flight: float, cooldowns: float) -> str:
    registry = CollectorRegistry()
    counter = Counter("cliproxy_requests", "Requests.", ["model"], registry=registry)
    counter.labels("gpt-4o").inc(requests)
    Histogram("cliproxy_request_seconds", "Latency.", registry=registry).observe(requests / 10)
    Gauge("cliproxy_in_flight_requests", "Now.", registry=registry).set(in_flight)
    shared = Gauge("cliproxy_credential_cooldowns", "Resting.", ["provider"], registry=registry)
    shared.labels("openai").set(cooldowns)
    return generate_latest(registry).decode()


def test_metrics_of_all_workers_add_up_and_shared_gauges_do_not() -> None:
    merged = merge_expositions([_worker_metrics(3, 1, 2), _worker_metrics(4, 2, 2)]).decode()
    values = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(merged)
        for sample in family.samples
    }
    assert values[("cliproxy_requests_total", (("model", "gpt-4o"),))] == 7
    assert values[("cliproxy_request_seconds_count", ())] == 2
    assert values[("cliproxy_request_seconds_bucket", (("le", "0.5"),))] == 2
    assert values[("cliproxy_in_flight_requests", ())] == 3
    assert values[("cliproxy_credential_cooldowns", (("provider", "openai"),))] == 2


def _key(**limits: Any) -> IssuedKey:
    return IssuedKey("ci", "0" * 64, 0.0, "sk-cp-ci", limits=Limits(**limits))


def test_a_rate_limit_counts_the_requests_every_worker_admitted(
    pair: tuple[EmbeddedState, EmbeddedState],
) -> None:
    workers = [KeyLimits(shared=state) for state in pair]
    key = _key(requests_per_minute=3)
    for number in range(3):
        workers[number % 2].admit(key)
    with pytest.raises(ProxyError) as refused:
        workers[1].admit(key)
    assert refused.value.status == 429
    assert 59 <= (refused.value.retry_after or 0) <= 60


def test_a_budget_counts_what_every_worker_spent(
    pair: tuple[EmbeddedState, EmbeddedState], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_module, "DOCUMENTS_CACHE", 0.0)
    spender, checker = (KeyLimits(shared=state) for state in pair)
    key = _key(tokens_per_day=500)
    checker.admit(key)
    spender.record({"key": "ci", "tokens_in": 400, "tokens_out": 200}, Cost(0.01, 0.01), 1.0)
    pair[0].publish({"key_spend": spender.published()})
    with pytest.raises(ProxyError) as refused:
        checker.admit(key)
    assert refused.value.status == 429
    assert "600 of 500 tokens" in refused.value.message
    assert checker.spent("ci")["tokens_today"] == 600


def test_reasoning_one_worker_remembered_is_found_by_the_other(
    pair: tuple[EmbeddedState, EmbeddedState],
) -> None:
    """A tool loop's next turn may reach another worker, which must still send the
    upstream its signed thinking back."""
    first, second = ReasoningCache(), ReasoningCache()
    first.share(pair[0])
    second.share(pair[1])
    parts = [
        ReasoningPart("let me look", "sig-1", Format.ANTHROPIC),
        ReasoningPart("", "opaque", Format.ANTHROPIC, redacted=True, item_id="rs_1"),
    ]
    first.remember("call_1", parts)
    assert second.recall("call_1") == tuple(parts)
    assert second.recall("call_2") is None
    assert ReasoningCache().recall("call_1") is None, "unshared caches stay apart"
