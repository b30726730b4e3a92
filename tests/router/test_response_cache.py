"""Issue 15's response cache end to end: hits replayed identically, misses when the rules
say so, nothing kept that was not whole."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from router.server import RunningRouter
from tests.conftest import StartRouter, provider
from tests.fakes.behaviours import Status, Stream, Truncate
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake

CHAT = "/v1/chat/completions"


def cached_config(fake: OpenAIFake, **cache: Any) -> dict[str, Any]:
    return {
        "providers": [
            provider("openai", fake.base_url + "/v1", [fake.key], ["gpt-4o-mini", "gpt-4o"])
        ],
        "routes": [
            {"model": "gpt-4o-mini", "providers": ["openai"], "cache": {"ttl": 60, **cache}},
            {"model": "gpt-4o", "providers": ["openai"]},
        ],
    }


def chat(text: str = "hi", model: str = "gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "temperature": 0,
        **extra,
    }


async def post(
    router: RunningRouter, body: dict[str, Any], path: str = CHAT
) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as http:
        async with http.post(router.url + path, json=body) as response:
            return response.status, dict(response.headers), await response.read()


def cache_fields(caplog: pytest.LogCaptureFixture) -> list[Any]:
    lines = [r.fields for r in caplog.records if r.name == "router.request"]  # type: ignore[attr-defined]
    return [line.get("cache") for line in lines]


async def test_a_whole_answer_is_replayed_byte_for_byte_and_the_upstream_sees_one_request(
    router_factory: StartRouter, openai_fake: OpenAIFake, caplog: pytest.LogCaptureFixture
) -> None:
    router = await router_factory(cached_config(openai_fake))
    caplog.set_level(logging.INFO)
    client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
    first = await client.chat.completions.with_raw_response.create(**chat())
    second = await client.chat.completions.with_raw_response.create(**chat())
    assert len(openai_fake.requests) == 1
    assert first.headers["X-Cliproxy-Cache"] == "miss"
    assert second.headers["X-Cliproxy-Cache"] == "hit"
    assert first.content == second.content
    assert second.parse().choices[0].message.content == "echo: hi"
    assert cache_fields(caplog) == ["store", "hit"]


async def test_a_stream_is_replayed_as_the_same_stream(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await router_factory(cached_config(openai_fake))
    openai_fake.script.push(Stream(chunks=4, interval=0.01))
    body = chat("tell me", stream=True)
    first = await post(router, body)
    second = await post(router, body)
    assert len(openai_fake.requests) == 1
    assert first[0] == second[0] == 200
    assert second[1]["Content-Type"].startswith("text/event-stream")
    assert (first[1]["X-Cliproxy-Cache"], second[1]["X-Cliproxy-Cache"]) == ("miss", "hit")
    assert first[2] == second[2]
    assert first[2].count(b"data: ") >= 5 and first[2].endswith(b"data: [DONE]\n\n")


async def test_a_translated_stream_replays_the_same_events_to_an_anthropic_client(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await router_factory(cached_config(openai_fake))
    openai_fake.script.push(Stream(chunks=3))
    client = anthropic.AsyncAnthropic(base_url=router.url, api_key="unused", max_retries=0)

    async def events() -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        stream = await client.messages.create(
            model="gpt-4o-mini",
            max_tokens=100,
            messages=[{"role": "user", "content": "stream please"}],
            extra_body={"temperature": 0},
            stream=True,
        )
        async for event in stream:
            text = getattr(getattr(event, "delta", None), "text", "")
            seen.append((event.type, text or ""))
        return seen

    first, second = await events(), await events()
    assert len(openai_fake.requests) == 1
    assert first == second
    assert [t for kind, t in first if kind == "content_block_delta"] == ["w0", " w1", " w2"]


async def test_entries_expire_after_their_ttl(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await router_factory(cached_config(openai_fake, ttl=0.3))
    await post(router, chat())
    assert (await post(router, chat()))[1]["X-Cliproxy-Cache"] == "hit"
    await asyncio.sleep(0.4)
    assert (await post(router, chat()))[1]["X-Cliproxy-Cache"] == "miss"
    assert len(openai_fake.requests) == 2


async def test_the_least_recently_used_entry_goes_first(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await router_factory(cached_config(openai_fake, **{"max-entries": 2}))
    for text in ("a", "b", "a", "c"):  # a is used again, so b is the one to go
        await post(router, chat(text))
    assert len(openai_fake.requests) == 3
    assert (await post(router, chat("a")))[1]["X-Cliproxy-Cache"] == "hit"
    assert (await post(router, chat("c")))[1]["X-Cliproxy-Cache"] == "hit"
    assert (await post(router, chat("b")))[1]["X-Cliproxy-Cache"] == "miss"
    assert len(openai_fake.requests) == 4
    assert len(router.state.runtime.response_cache or ()) == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"temperature": None}, "temperature"),
        ({"temperature": 0.7}, "temperature"),
        (
            {
                "messages": [
                    {"role": "user", "content": "weather?"},
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "weather", "arguments": "{}"},
                            }
                        ],
                    },
                    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
                ]
            },
            "tool_results",
        ),
    ],
)
async def test_sampling_and_pending_tool_results_are_answered_fresh(
    router_factory: StartRouter,
    openai_fake: OpenAIFake,
    caplog: pytest.LogCaptureFixture,
    change: dict[str, Any],
    reason: str,
) -> None:
    router = await router_factory(cached_config(openai_fake))
    caplog.set_level(logging.INFO)
    body = {k: v for k, v in {**chat(), **change}.items() if v is not None}
    for _ in range(2):
        status, headers, _ = await post(router, body)
        assert status == 200 and "X-Cliproxy-Cache" not in headers
    assert len(openai_fake.requests) == 2
    assert cache_fields(caplog) == [f"skip({reason})"] * 2


async def test_a_route_may_cache_sampled_requests_and_tool_results(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    config = cached_config(openai_fake, **{"any-temperature": True, "with-tool-results": True})
    router = await router_factory(config)
    body = chat(temperature=1.0)
    await post(router, body)
    assert (await post(router, body))[1]["X-Cliproxy-Cache"] == "hit"
    assert len(openai_fake.requests) == 1


async def test_a_route_without_cache_always_asks_the_upstream(
    router_factory: StartRouter, openai_fake: OpenAIFake, caplog: pytest.LogCaptureFixture
) -> None:
    router = await router_factory(cached_config(openai_fake))
    caplog.set_level(logging.INFO)
    for _ in range(2):
        assert "X-Cliproxy-Cache" not in (await post(router, chat(model="gpt-4o")))[1]
    assert len(openai_fake.requests) == 2
    assert cache_fields(caplog) == [None, None]


async def test_errors_and_cut_streams_are_not_kept(
    router_factory: StartRouter, openai_fake: OpenAIFake, caplog: pytest.LogCaptureFixture
) -> None:
    router = await router_factory(cached_config(openai_fake))
    caplog.set_level(logging.INFO)
    openai_fake.script.push(Status(400, message="bad"))
    openai_fake.script.push(Truncate(after_chunks=2))
    assert (await post(router, chat()))[0] == 400
    cut = await post(router, chat(stream=True))
    assert not cut[2].endswith(b"data: [DONE]\n\n") and b"may be incomplete" in cut[2]
    assert (await post(router, chat()))[1]["X-Cliproxy-Cache"] == "miss"
    assert (await post(router, chat(stream=True)))[1]["X-Cliproxy-Cache"] == "miss"
    assert len(openai_fake.requests) == 4
    lines = [r.fields for r in caplog.records if r.name == "router.request"]  # type: ignore[attr-defined]
    assert [line.get("cache_unstored") for line in lines] == ["error", "truncated", None, None]


async def test_an_answer_over_max_entry_kb_is_not_kept(
    router_factory: StartRouter, openai_fake: OpenAIFake, caplog: pytest.LogCaptureFixture
) -> None:
    router = await router_factory(cached_config(openai_fake, **{"max-entry-kb": 1}))
    caplog.set_level(logging.INFO)
    body = chat("x " * 600)
    await post(router, body)
    assert (await post(router, body))[1]["X-Cliproxy-Cache"] == "miss"
    assert cache_fields(caplog) == ["miss", "miss"]
    assert len(router.state.runtime.response_cache or ()) == 0


async def test_a_client_leaving_a_stream_on_a_miss_keeps_nothing_and_leaves_nothing_open(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await router_factory(cached_config(openai_fake))
    openai_fake.script.push(Stream(chunks=40, interval=0.05))
    body = chat("long", stream=True)
    async with aiohttp.ClientSession() as http:
        response = await http.post(router.url + CHAT, json=body)
        await response.content.readline()
        response.close()
    await openai_fake.wait_for_disconnect()
    runtime = router.state.runtime
    for _ in range(50):
        if all(u.active_requests() == 0 for u in runtime.upstreams):
            break
        await asyncio.sleep(0.02)
    assert all(u.active_requests() == 0 for u in runtime.upstreams)
    assert runtime.response_cache is not None and len(runtime.response_cache) == 0
    assert runtime.response_cache.bytes == 0
    assert (await post(router, body))[1]["X-Cliproxy-Cache"] == "miss"


async def test_gemini_stream_and_whole_answers_of_one_body_are_kept_apart(
    router_factory: StartRouter, gemini_fake: GeminiFake
) -> None:
    router = await router_factory(
        {
            "providers": [
                provider(
                    "gem",
                    gemini_fake.base_url,
                    [gemini_fake.key],
                    ["gemini-2.5-flash"],
                    kind="gemini",
                )
            ],
            "routes": [{"model": "gemini-*", "providers": ["gem"], "cache": {}}],
        }
    )
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"temperature": 0},
    }
    base = "/v1beta/models/gemini-2.5-flash"
    whole = await post(router, body, base + ":generateContent")
    streamed = await post(router, body, base + ":streamGenerateContent?alt=sse")
    assert (whole[1]["X-Cliproxy-Cache"], streamed[1]["X-Cliproxy-Cache"]) == ("miss", "miss")
    assert json.loads(whole[2])["candidates"][0]["content"]["parts"][0]["text"] == "echo: hi"
    assert streamed[2].startswith(b"data: ")
    again = await post(router, body, base + ":streamGenerateContent?alt=sse")
    assert again[1]["X-Cliproxy-Cache"] == "hit" and again[2] == streamed[2]
    assert len(gemini_fake.requests) == 2


async def test_hits_and_misses_are_counted_and_cost_nothing(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    config = {**cached_config(openai_fake), "metrics": {"public": True}}
    router = await router_factory(config)
    for body in (chat(), chat(), chat(temperature=0.5)):
        await post(router, body)
    async with aiohttp.ClientSession() as http:
        async with http.get(router.url + "/metrics") as response:
            text = await response.text()
    assert 'cliproxy_response_cache_lookups_total{result="hit"} 1.0' in text
    assert 'cliproxy_response_cache_lookups_total{result="miss"} 1.0' in text
    assert "cliproxy_response_cache_stores_total 1.0" in text
    assert 'cliproxy_response_cache_skips_total{reason="temperature"} 1.0' in text
    assert "cliproxy_response_cache_entries 1.0" in text


async def test_a_rule_target_uses_the_cache_of_the_route_that_resolves_it(
    router_factory: StartRouter, openai_fake: OpenAIFake, caplog: pytest.LogCaptureFixture
) -> None:
    config = cached_config(openai_fake)
    config["routing"] = {
        "rules": [{"name": "jobs", "when": {"headers": {"x-job": "*"}}, "model": "gpt-4o-mini"}]
    }
    router = await router_factory(config)
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession(headers={"x-job": "nightly"}) as http:
        for _ in range(2):
            async with http.post(router.url + CHAT, json=chat(model="gpt-4o")) as response:
                assert response.status == 200
    assert len(openai_fake.requests) == 1
    assert openai_fake.requests[0].json["model"] == "gpt-4o-mini"
    lines = [r.fields for r in caplog.records if r.name == "router.request"]  # type: ignore[attr-defined]
    assert [(line.get("rule"), line.get("cache")) for line in lines] == [
        ("jobs", "store"),
        ("jobs", "hit"),
    ]


async def test_a_hit_costs_nothing_in_the_ledger(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await router_factory(cached_config(openai_fake))
    await post(router, chat())
    await post(router, chat())
    async with aiohttp.ClientSession() as http:
        async with http.get(router.url + "/v1/management/usage/recent?limit=2") as response:
            rows = (await response.json())["requests"]
    hit, miss = rows
    assert miss["cost_usd"] > 0 and miss["tokens_out"] == hit["tokens_out"] > 0
    assert hit["cost_usd"] == 0 and hit["api_equivalent_usd"] == miss["api_equivalent_usd"]


async def test_a_later_candidate_answers_from_the_cache_while_the_first_cools_down(
    router_factory: StartRouter, openai_fake: OpenAIFake, caplog: pytest.LogCaptureFixture
) -> None:
    async with OpenAIFake() as second:
        config = cached_config(openai_fake)
        config["providers"].append(
            provider("second", second.base_url + "/v1", [second.key], ["gpt-4o-mini"])
        )
        config["routes"][0]["providers"] = ["openai", "second"]
        config["routing"] = {"retry-backoff": 0}
        router = await router_factory(config)
        caplog.set_level(logging.INFO)
        openai_fake.script.push(Status(503))
        first = await post(router, chat())
        again = await post(router, chat())
        assert first[2] == again[2] and again[1]["X-Cliproxy-Cache"] == "hit"
        assert (len(openai_fake.requests), len(second.requests)) == (1, 1)
    lines = [r.fields for r in caplog.records if r.name == "router.request"]  # type: ignore[attr-defined]
    assert [(ln["provider"], ln["attempts"], ln["cache"]) for ln in lines] == [
        ("second", 2, "store"),
        ("second", 0, "hit"),  # openai is cooling: second's key is looked up, nothing sent
    ]
