"""Selector: credential order by strategy, cooldowns skipped, the soonest return."""

from __future__ import annotations

from collections import Counter

from router.config.schema import CooldownConfig
from router.routing.cooldown import Cooldowns
from router.routing.selector import Pin, Selector
from router.routing.table import Target
from tests.routing.stubs import ConfiguredUpstream, ManualClock


def selector(strategy: str, clock: ManualClock | None = None) -> Selector:
    return Selector(strategy, Cooldowns(CooldownConfig(), clock=clock or ManualClock()))


def order(chosen: Selector, targets: list[Target]) -> list[tuple[str, str]]:
    return [(c.upstream.name, c.credential.name) for c in chosen.candidates(targets)]


def test_round_robin_rotates_the_first_credential_per_model() -> None:
    upstream = ConfiguredUpstream("openai", credentials=("a", "b", "c"))
    rr = selector("round-robin")
    firsts = [order(rr, [Target(upstream, "m")])[0][1] for _ in range(6)]
    assert firsts == ["a", "b", "c", "a", "b", "c"]
    assert order(rr, [Target(upstream, "other")])[0][1] == "a"


def test_round_robin_still_offers_every_credential_each_time() -> None:
    upstream = ConfiguredUpstream("openai", credentials=("a", "b", "c"))
    rr = selector("round-robin")
    for _ in range(4):
        assert sorted(name for _, name in order(rr, [Target(upstream, "m")])) == ["a", "b", "c"]


def test_round_robin_spreads_evenly() -> None:
    upstream = ConfiguredUpstream("openai", credentials=("a", "b", "c", "d"))
    rr = selector("round-robin")
    counts = Counter(order(rr, [Target(upstream, "m")])[0][1] for _ in range(400))
    assert set(counts.values()) == {100}


def test_fill_first_keeps_config_order() -> None:
    upstream = ConfiguredUpstream("openai", credentials=("a", "b"))
    ff = selector("fill-first")
    assert [order(ff, [Target(upstream, "m")]) for _ in range(3)] == [
        [("openai", "a"), ("openai", "b")]
    ] * 3


def test_targets_keep_their_order_and_a_pinned_credential_is_the_only_one() -> None:
    first = ConfiguredUpstream("first", credentials=("a", "b"))
    second = ConfiguredUpstream("second", credentials=("x", "y"))
    ff = selector("fill-first")
    targets = [Target(first, "m", credential="b"), Target(second, "m")]
    assert order(ff, targets) == [("first", "b"), ("second", "x"), ("second", "y")]


def test_cooling_credentials_are_skipped_until_they_are_back() -> None:
    clock = ManualClock()
    ff = selector("fill-first", clock)
    upstream = ConfiguredUpstream("openai", credentials=("a", "b"))
    ff.cooldowns.fail("openai", "a", "m", "boom", retry_after=10)
    assert order(ff, [Target(upstream, "m")]) == [("openai", "b")]
    assert order(ff, [Target(upstream, "other")]) == [("openai", "a"), ("openai", "b")]
    clock.advance(10)
    assert order(ff, [Target(upstream, "m")]) == [("openai", "a"), ("openai", "b")]


def test_soonest_available_is_the_shortest_rest_among_the_targets_credentials() -> None:
    clock = ManualClock()
    ff = selector("fill-first", clock)
    upstream = ConfiguredUpstream("openai", credentials=("a", "b"))
    targets = [Target(upstream, "m")]
    assert ff.soonest_available(targets) is None
    ff.cooldowns.fail("openai", "a", "m", "boom", retry_after=30)
    ff.cooldowns.fail("openai", "b", "m", "boom", retry_after=12)
    assert ff.soonest_available(targets) == 12
    assert ff.soonest_available([Target(upstream, "m", credential="a")]) == 30
    assert order(ff, targets) == []


def test_candidates_check_cooldowns_as_each_is_reached() -> None:
    ff = selector("fill-first")
    upstream = ConfiguredUpstream("openai", credentials=("a", "b"))
    candidates = ff.candidates([Target(upstream, "m")])
    assert next(candidates).credential.name == "a"
    ff.cooldowns.fail("openai", "b", "m", "failed meanwhile", retry_after=5)
    assert list(candidates) == []


def test_weighted_round_robin_spreads_by_weight_over_1000_selections() -> None:
    upstream = ConfiguredUpstream(
        "openai", credentials=("a", "b", "c"), weights={"a": 5, "b": 3, "c": 2}
    )
    rr = selector("round-robin")
    counts = Counter(order(rr, [Target(upstream, "m")])[0][1] for _ in range(1000))
    for name, share in (("a", 0.5), ("b", 0.3), ("c", 0.2)):
        assert abs(counts[name] - share * 1000) <= 10, counts


def test_weighted_round_robin_interleaves_instead_of_bursting() -> None:
    upstream = ConfiguredUpstream("openai", credentials=("a", "b"), weights={"a": 3})
    rr = selector("round-robin")
    firsts = "".join(order(rr, [Target(upstream, "m")])[0][1] for _ in range(8))
    assert firsts.count("b") == 2 and "bb" not in firsts and "aaaa" not in firsts


def test_weighted_round_robin_offers_every_credential_for_failover() -> None:
    upstream = ConfiguredUpstream("openai", credentials=("a", "b", "c"), weights={"c": 4})
    rr = selector("round-robin")
    for _ in range(12):
        assert sorted(name for _, name in order(rr, [Target(upstream, "m")])) == ["a", "b", "c"]


def test_pin_goes_first_while_healthy_and_yields_when_cooling() -> None:
    clock = ManualClock()
    upstream = ConfiguredUpstream("openai", credentials=("a", "b", "c"))
    rr = selector("round-robin", clock)
    pin = Pin("openai", "c")
    for _ in range(3):
        got = [
            name
            for _, name in (
                (c.upstream.name, c.credential.name)
                for c in rr.candidates([Target(upstream, "m")], pin)
            )
        ]
        assert got[0] == "c" and sorted(got) == ["a", "b", "c"]
    rr.cooldowns.fail("openai", "c", "m", "429")
    got = [c.credential.name for c in rr.candidates([Target(upstream, "m")], pin)]
    assert "c" not in got and got
    clock.advance(3600)
    assert next(iter(rr.candidates([Target(upstream, "m")], pin))).credential.name == "c"


def test_pin_of_another_provider_changes_nothing() -> None:
    upstream = ConfiguredUpstream("openai", credentials=("a", "b"))
    rr = selector("round-robin")
    pin = Pin("elsewhere", "b")
    firsts = [
        next(iter(rr.candidates([Target(upstream, "m")], pin))).credential.name for _ in range(4)
    ]
    assert firsts == ["a", "b", "a", "b"]
