"""Non-streamed upstream answers are read within answer-limit-mb: a larger one is a clean
502 naming the limit and the key, and is never held whole in memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from router.config.schema import Timeouts
from router.config.subscriptions import ChatGPTSubscriptionConfig
from router.errors import ProxyError
from router.subscriptions.chatgpt.upstream import ChatGPTSubscriptionUpstream
from tests.conftest import StartRouter
from tests.fakes.behaviours import Huge, Reply
from tests.fakes.codex import CodexFake
from tests.faults.clients import MODEL, Fakes, ask, clean_error, fault_config, settle
from tests.subscriptions.test_chatgpt_executor import Accounts, call, client_body

MIB = 1024 * 1024


class PeakRss:
    """Samples this process's RSS every few milliseconds while in use."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / MIB

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self.process.memory_info().rss)
            await asyncio.sleep(0.002)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._sample())
        try:
            yield
        finally:
            task.cancel()
            self.peak = max(self.peak, self.process.memory_info().rss)


@pytest.mark.parametrize("client", ["openai", "anthropic"], ids=["passthrough", "translated"])
async def test_a_64_mib_answer_is_a_502_and_never_held_whole(
    router_factory: StartRouter, fakes: Fakes, client: str
) -> None:
    router = await router_factory(fault_config(fakes))
    fakes.openai.script.push(Huge(megabytes=64))
    rss = PeakRss()
    async with rss.watching():
        answer = await ask(router, client, MODEL["openai"], stream=False, timeout=60)
    assert answer.status == 502
    assert clean_error(client, answer) is None
    message = json.loads(answer.body)["error"]["message"]
    assert "more than 32 MiB" in message and "answer-limit-mb" in message
    print(f"\nanswer-limit {client}: peak RSS growth {rss.growth_mib:.1f} MiB for a 64 MiB answer")
    assert rss.growth_mib < 48, f"RSS grew {rss.growth_mib:.0f} MiB reading a 64 MiB answer"
    assert await settle(router, fakes) is None


async def test_the_limit_is_configurable_and_answers_within_it_pass(
    router_factory: StartRouter, fakes: Fakes
) -> None:
    router = await router_factory(fault_config(fakes, **{"answer-limit-mb": 2}))
    fakes.openai.script.push(Huge(megabytes=1), Huge(megabytes=3))
    within = await ask(router, "openai", MODEL["openai"], stream=False)
    assert within.status == 200 and len(within.body) > MIB
    over = await ask(router, "openai", MODEL["openai"], stream=False)
    assert over.status == 502 and b"more than 2 MiB" in over.body
    assert router.state.cooldowns.active("p-openai") == [], "a big answer is no credential fault"


async def test_chatgpt_assembled_stream_is_read_within_the_limit(tmp_path: Path) -> None:
    async with CodexFake(tokens={"tok-1": "acct-1"}) as fake:
        accounts = Accounts(tmp_path, fake)
        section = ChatGPTSubscriptionConfig(backend_url=fake.backend_url)
        upstream = ChatGPTSubscriptionUpstream(
            section, Timeouts(idle=5), accounts.store, accounts.keeper, answer_limit=2 * MIB
        )
        try:
            fake.script.push(Reply(text="small"), Huge(megabytes=8))
            reply = await upstream.open(call(client_body(), stream=False))
            reply.close()
            assert reply.status == 200
            with pytest.raises(ProxyError) as raised:
                await upstream.open(call(client_body(), stream=False))
            assert raised.value.status == 502
            assert "more than 2 MiB" in raised.value.message
            assert "answer-limit-mb" in raised.value.message
            assert upstream.active_requests() == 0
        finally:
            await upstream.close()


async def test_one_translated_stream_event_larger_than_the_limit_ends_the_stream(
    router_factory: StartRouter, fakes: Fakes
) -> None:
    """A translated stream's parser holds an event until it ends: one event of 16 MiB
    must not be buffered past answer-limit-mb. A passthrough stream is never held."""
    router = await router_factory(fault_config(fakes, **{"answer-limit-mb": 4}))
    fakes.openai.script.push(Huge(megabytes=16))
    rss = PeakRss()
    async with rss.watching():
        answer = await ask(router, "anthropic", MODEL["openai"], stream=True, timeout=60)
    assert answer.status == 200
    assert clean_error("anthropic", answer) is None
    assert b"more than 4 MiB" in answer.body and b"answer-limit-mb" in answer.body
    assert rss.growth_mib < 24, f"RSS grew {rss.growth_mib:.0f} MiB"
    fakes.openai.script.push(Huge(megabytes=16))
    passthrough = await ask(router, "openai", MODEL["openai"], stream=True, timeout=60)
    assert passthrough.status == 200 and len(passthrough.body) > 16 * MIB
    assert clean_error("openai", passthrough) is not None, "a complete stream got an error"
    assert await settle(router, fakes) is None
