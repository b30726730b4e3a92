"""Sticky sessions: how a conversation is recognised, and the bounded TTL store."""

from __future__ import annotations

import json

from router.config.rules import StickyConfig
from router.formats import Format
from router.routing.selector import Pin
from router.routing.sticky import Session, StickySessions, session_of
from tests.routing.stubs import ManualClock

CC_SESSION = "4a7d9c2e-1111-4222-8333-944455556666"


def test_claude_code_user_id_session_both_shapes() -> None:
    legacy = {"metadata": {"user_id": f"user_{'a' * 64}_account_acc-1_session_{CC_SESSION}"}}
    as_json = {"metadata": {"user_id": json.dumps({"device_id": "d", "session_id": CC_SESSION})}}
    for body in (legacy, as_json):
        assert session_of(Format.ANTHROPIC, body, {}) == Session("cc:" + CC_SESSION)


def test_header_then_prompt_cache_key_then_conversation_start() -> None:
    codex = {"prompt_cache_key": "conv-9", "input": "hi"}
    assert session_of(Format.OPENAI_RESPONSES, codex, {}) == Session("pck:conv-9")
    assert session_of(Format.OPENAI_RESPONSES, codex, {"X-Session-Id": "s1"}) == Session("h:s1")
    turn1 = {
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "q1"}]
    }
    turn2 = {
        "messages": [
            *turn1["messages"],
            {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"},
        ]
    }
    first = session_of(Format.OPENAI_CHAT, turn1, {})
    second = session_of(Format.OPENAI_CHAT, turn2, {})
    assert first is not None and second is not None
    assert first.key == second.key and first.key.startswith("p:")
    assert not first.continued and second.continued
    other = {"messages": [{"role": "user", "content": "something else"}]}
    assert session_of(Format.OPENAI_CHAT, other, {}) != first
    assert session_of(Format.OPENAI_CHAT, {"messages": []}, {}) is None


def test_store_remembers_until_ttl_and_only_continued_prefix_sessions_look_up() -> None:
    clock = ManualClock()
    store = StickySessions(StickyConfig(ttl=60), clock)
    explicit = Session("h:s1")
    store.remember("m", explicit, "p", "a")
    assert store.get("m", explicit) == Pin("p", "a")
    assert store.get("other-model", explicit) is None
    store.remember("m", Session("p:x", continued=False), "p", "b")
    assert store.get("m", Session("p:x", continued=False)) is None
    assert store.get("m", Session("p:x")) == Pin("p", "b")
    clock.advance(61)
    assert store.get("m", explicit) is None


def test_store_stays_bounded_dropping_least_recently_used() -> None:
    store = StickySessions(StickyConfig(max_sessions=100), ManualClock())
    for i in range(1000):
        store.remember("m", Session(f"h:{i}"), "p", "a")
        if i >= 1:
            store.get("m", Session("h:0"))  # kept warm, so never the least recent
        assert len(store) <= 100
    assert len(store) == 100
    assert store.get("m", Session("h:0")) == Pin("p", "a")
    assert store.get("m", Session("h:999")) == Pin("p", "a")
    assert store.get("m", Session("h:5")) is None


def test_disabled_store_remembers_nothing() -> None:
    store = StickySessions(StickyConfig(enabled=False), ManualClock())
    store.remember("m", Session("h:1"), "p", "a")
    assert store.get("m", Session("h:1")) is None and len(store) == 0
