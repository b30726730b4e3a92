"""The response cache's store (keys, ttl, per-route LRU, the global byte bound), its
config errors, and what route explain says of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from router.config import ConfigError, read_config
from router.config.cache import RouteCacheConfig
from router.config.rules import StickyConfig
from router.config.schema import CooldownConfig, RouteConfig
from router.formats import Format
from router.routing.cooldown import Cooldowns
from router.routing.explain import explain, render
from router.routing.failover import Opened
from router.routing.response_cache import (
    CHUNK_OVERHEAD,
    ENTRY_OVERHEAD,
    CacheSession,
    RecordingReply,
    ResponseCache,
    cache_key,
)
from router.routing.rules import Rules
from router.routing.selector import Candidate, Selector
from router.routing.sticky import StickySessions
from router.routing.table import ModelTable
from router.upstreams.base import UpstreamCall, UpstreamCredential, UpstreamReply
from tests.routing.stubs import ConfiguredUpstream, ManualClock

CREDENTIAL = UpstreamCredential("key1", "secret")


class Sent(UpstreamReply):
    """An upstream reply that sends ``chunks`` and ends."""

    def __init__(self, *chunks: bytes, status: int = 200) -> None:
        self.status = status
        self.headers = {"Content-Type": "application/json", "x-ratelimit-remaining": "9"}
        self._chunks = list(chunks)
        self.closed = False

    async def next_chunk(self) -> bytes:
        return self._chunks.pop(0) if self._chunks else b""

    def close(self) -> None:
        self.closed = True


def call(body: bytes = b'{"a":1}', *, stream: bool = False, model: str = "m") -> UpstreamCall:
    return UpstreamCall(CREDENTIAL, model, body, stream, "req")


async def recorded(key: bytes, *chunks: bytes, limit: int = 1 << 20) -> RecordingReply:
    recording = RecordingReply(Sent(*chunks), key, limit)
    while await recording.next_chunk():
        pass
    return recording


def test_the_key_is_the_target_the_mode_and_the_body() -> None:
    one, other = ConfiguredUpstream("one"), ConfiguredUpstream("other")
    base = cache_key(Candidate(one, CREDENTIAL, "m"), call())
    assert base == cache_key(Candidate(one, UpstreamCredential("key2", "s"), "m"), call())
    assert base != cache_key(Candidate(other, CREDENTIAL, "m"), call())
    assert base != cache_key(Candidate(one, CREDENTIAL, "m"), call(model="n"))
    assert base != cache_key(Candidate(one, CREDENTIAL, "m"), call(stream=True))
    assert base != cache_key(Candidate(one, CREDENTIAL, "m"), call(b'{"a":2}'))


async def test_entries_live_for_their_route_ttl() -> None:
    clock = ManualClock()
    config = RouteCacheConfig(ttl=10)
    cache = ResponseCache([config], max_mb=1, clock=clock)
    bucket = cache.bucket(config)
    assert cache.put(bucket, await recorded(b"k", b"{}"))
    clock.advance(9.9)
    entry = cache.get(bucket, b"k")
    assert entry is not None and entry.chunks == (b"{}",)
    assert entry.headers == {"Content-Type": "application/json"}
    clock.advance(0.2)
    assert cache.get(bucket, b"k") is None
    assert len(cache) == 0 and cache.bytes == 0


async def test_each_route_keeps_at_most_max_entries_least_recently_used_first() -> None:
    small, large = RouteCacheConfig(max_entries=2), RouteCacheConfig(max_entries=10)
    cache = ResponseCache([small, large], max_mb=1)
    for key in (b"a", b"b"):
        cache.put(cache.bucket(small), await recorded(key, b"{}"))
    cache.put(cache.bucket(large), await recorded(b"z", b"{}"))
    assert cache.get(cache.bucket(small), b"a") is not None
    cache.put(cache.bucket(small), await recorded(b"c", b"{}"))
    assert cache.get(cache.bucket(small), b"b") is None
    assert cache.get(cache.bucket(small), b"a") is not None
    assert cache.get(cache.bucket(large), b"z") is not None
    assert len(cache) == 3 and cache.evictions == 1


async def test_all_routes_together_stay_under_max_mb() -> None:
    clock = ManualClock()
    one, two = RouteCacheConfig(), RouteCacheConfig()
    kib = b"x" * 1000
    each = len(kib) + ENTRY_OVERHEAD + CHUNK_OVERHEAD
    cache = ResponseCache([one, two], max_mb=2.5 * each / (1024 * 1024), clock=clock)
    cache.put(cache.bucket(one), await recorded(b"old", kib))
    clock.advance(1)
    cache.put(cache.bucket(two), await recorded(b"mid", kib))
    clock.advance(1)
    cache.get(cache.bucket(one), b"old")  # used again: now the newest
    cache.put(cache.bucket(two), await recorded(b"new", kib))
    assert cache.bytes == 2 * each and len(cache) == 2
    assert cache.get(cache.bucket(two), b"mid") is None
    assert cache.get(cache.bucket(one), b"old") is not None
    assert not cache.put(cache.bucket(one), await recorded(b"huge", kib * 4))


async def test_many_small_chunks_count_for_more_than_their_bytes() -> None:
    config = RouteCacheConfig()
    cache = ResponseCache([config], max_mb=1)
    cache.put(cache.bucket(config), await recorded(b"k", *([b"ab"] * 100)))
    assert cache.bytes == 200 + ENTRY_OVERHEAD + 100 * CHUNK_OVERHEAD


async def test_a_recording_over_its_limit_keeps_nothing_and_is_not_stored() -> None:
    config = RouteCacheConfig()
    cache = ResponseCache([config], max_mb=1)
    recording = await recorded(b"k", b"12345", b"67890", limit=8)
    assert recording.too_large and recording.chunks == [] and recording.ended
    assert not cache.put(cache.bucket(config), recording)
    assert cache.bytes == 0


async def test_a_session_records_only_successes_and_stores_only_ended_replies() -> None:
    config = RouteCacheConfig()
    cache = ResponseCache([config], max_mb=1)
    session = CacheSession(cache, config)
    candidate = Candidate(ConfiguredUpstream("one"), CREDENTIAL, "m")
    assert session.lookup(candidate, call(), 0) is None
    error = Sent(b"{}", status=500)
    assert session.record(error) is error
    reply = session.record(Sent(b'{"ok":', b"true}"))
    assert isinstance(reply, RecordingReply)
    await reply.next_chunk()
    opened = Opened(candidate, reply, 1, 0.0)
    assert session.store(opened) == "incomplete"
    while await reply.next_chunk():
        pass
    assert session.store(opened) == "store"
    hit = CacheSession(cache, config).lookup(candidate, call(), 1)
    assert hit is not None and hit.payload == {"ok": True} and hit.attempts == 1
    assert hit.body == b'{"ok":true}'


def test_cache_config_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    route = {
        "model": "m",
        "providers": ["p"],
        "cache": {"ttl": 0, "max-entries": 0, "max-entry-kb": -1, "any-temprature": True},
    }
    path.write_text(
        yaml.safe_dump(
            {
                "providers": [{"name": "p", "base-url": "http://127.0.0.1:1"}],
                "routes": [route, {"model": "n", "providers": ["p"], "cache": "yes"}],
                "response-cache": {"max-mb": 0},
            }
        )
    )
    with pytest.raises(ConfigError) as caught:
        read_config(path, env={})
    problems = "\n".join(caught.value.problems)
    assert "routes[0].cache.any-temprature: unknown key (did you mean 'any-temperature'?)" in (
        problems
    )
    assert "routes[1].cache: expected a mapping, got the string 'yes'" in problems
    assert "response-cache.max-mb: expected a number > 0, got 0.0" in problems
    route["cache"] = {"ttl": 0, "max-entries": 0, "max-entry-kb": -1}
    path.write_text(
        yaml.safe_dump(
            {"providers": [{"name": "p", "base-url": "http://127.0.0.1:1"}], "routes": [route]}
        )
    )
    with pytest.raises(ConfigError) as caught:
        read_config(path, env={})
    assert caught.value.problems == [
        "routes[0].cache.ttl: expected a number > 0, got 0.0",
        "routes[0].cache.max-entries: expected an integer >= 1, got 0",
        "routes[0].cache.max-entry-kb: expected an integer >= 1, got -1",
    ]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"temperature": 0}, "look up (ttl 300 s)"),
        ({}, "skip(temperature)"),
        ({"temperature": 0.2}, "skip(temperature)"),
        (
            {
                "temperature": 0,
                "messages": [
                    {"role": "user", "content": "w?"},
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t1", "name": "w", "input": {}}],
                    },
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
                    },
                ],
            },
            "skip(tool_results)",
        ),
    ],
)
def test_route_explain_says_what_the_cache_would_do(extra: dict[str, object], said: str) -> None:
    upstream = ConfiguredUpstream("claude", {"claude-haiku-4-5": ()})
    routes = [RouteConfig("claude-*", ("claude",), RouteCacheConfig())]
    table = ModelTable([upstream], routes=routes)
    clock = ManualClock()
    selector = Selector("round-robin", Cooldowns(CooldownConfig(), clock=clock))
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 9,
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }
    args = (table, Rules([]), StickySessions(StickyConfig(), clock), selector)
    result = explain(*args, Format.ANTHROPIC, "claude-haiku-4-5", body)
    assert result["cache"] == said
    assert f"response cache: {said}" in render(result)
    plain = ModelTable([upstream], routes=[])
    assert explain(plain, *args[1:], Format.ANTHROPIC, "claude-haiku-4-5", body)["cache"] is None
