"""Metrics and ledger rows are made in batches after requests end: a request is counted
within a moment by itself, at once for whoever reads metrics or the ledger, with the
time it started, and an issued key's spend is added before its next request."""

from __future__ import annotations

import asyncio
import time

from tests.conftest import StartRouter
from tests.fakes.behaviours import Reply, Usage
from tests.usage.conftest import KEYS, Client, start_usage_router

ALICE = KEYS["alice"]


async def _answering_router(router_factory, openai_fake, anthropic_fake, gemini_fake, http):
    """A usage router whose OpenAI fake answers every request, and a client of it."""
    router = await start_usage_router(router_factory, openai_fake, anthropic_fake, gemini_fake)
    openai_fake.script.always(Reply(text="ok", usage=Usage(11, 5)))
    return router, Client(router.url, http)


def _requests_counted(router) -> float:
    return sum(router.state.usage.metrics.requests.values.values())


async def test_finished_requests_are_counted_within_a_moment_without_a_reader(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    router, client = await _answering_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake, http
    )
    assert await client.chat(ALICE, "gpt-4o") == 200
    ledger = router.state.usage.ledger
    deadline = time.monotonic() + 2
    while _requests_counted(router) < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert _requests_counted(router) == 1
    assert ledger.queued + ledger.written == 1


async def test_readers_see_the_request_just_answered_with_its_start_time(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    router, client = await _answering_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake, http
    )
    before = time.time()
    assert await client.chat(ALICE, "gpt-4o") == 200
    after = time.time()
    await asyncio.sleep(0.2)  # later than the batch timer: the row must keep its own time
    async with http.get(router.url + "/v1/management/usage/recent?limit=5") as reply:
        assert reply.status == 200, await reply.text()
        rows = (await reply.json())["requests"]
    assert len(rows) == 1
    assert before - 0.01 <= rows[0]["ts"] <= after
    assert await client.chat(ALICE, "gpt-4o") == 200
    async with http.get(router.url + "/metrics") as reply:
        text = await reply.text()
    assert 'cliproxy_requests_total{format="openai-chat"' in text
    counted = [ln for ln in text.splitlines() if ln.startswith("cliproxy_requests_total{")]
    assert sum(float(ln.rsplit(" ", 1)[1]) for ln in counted) == 2
