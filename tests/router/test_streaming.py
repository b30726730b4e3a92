"""Streams: forwarded as they arrive, keep-alives, mid-stream failures, and cancellation
that leaves nothing behind."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import aiohttp
import pytest

from tests.conftest import StartRouter, provider
from tests.fakes.behaviours import Hang, Stall, Stream
from tests.fakes.openai import OpenAIFake

pytestmark = pytest.mark.both_loops

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def config_for(fake: OpenAIFake, **extra: object) -> dict:
    timeouts = extra.pop("timeouts", {})
    return {
        "providers": [provider("p", fake.base_url + "/v1", [fake.key], ["m"], timeouts=timeouts)],
        **extra,
    }


async def test_chunks_arrive_as_the_upstream_sends_them(
    router_factory: StartRouter, openai_fake
) -> None:
    router = await router_factory(config_for(openai_fake))
    openai_fake.script.push(Stream(chunks=5, interval=0.2))
    arrivals = []
    async with aiohttp.ClientSession() as http:
        async with http.post(router.url + "/v1/chat/completions", json=BODY) as response:
            async for line in response.content:
                if line.startswith(b"data: {") and b'"content": "' in line.replace(b'":"', b'": "'):
                    arrivals.append(time.monotonic())
    assert len(arrivals) >= 5
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert max(gaps) > 0.1, "chunks were buffered instead of forwarded as they came"


async def test_client_disconnect_cancels_upstream_within_200ms(
    router_factory: StartRouter, openai_fake
) -> None:
    router = await router_factory(config_for(openai_fake))
    openai_fake.script.push(Stream(chunks=1000, interval=0.01))
    runtime = router.state.runtime
    async with aiohttp.ClientSession() as http:
        response = await http.post(router.url + "/v1/chat/completions", json=BODY)
        await response.content.readline()
        assert runtime.upstreams[0].active_requests() == 1
        response.close()
        left = time.monotonic()
    await openai_fake.wait_for_disconnect(1, timeout=1)
    record = openai_fake.requests[0]
    assert record.disconnected
    deadline = time.monotonic() + 1
    while runtime.upstreams[0].active_requests() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert runtime.upstreams[0].active_requests() == 0
    assert time.monotonic() - left < 0.5
    assert record.disconnected_at is not None and record.disconnected_at - left < 0.2
    assert router.state.cooldowns.active("p") == []


async def test_client_disconnect_while_upstream_is_silent(
    router_factory: StartRouter, openai_fake
) -> None:
    router = await router_factory(config_for(openai_fake))
    openai_fake.script.push(Hang())
    async with aiohttp.ClientSession() as http:
        task = asyncio.ensure_future(
            http.post(router.url + "/v1/chat/completions", json={**BODY, "stream": False})
        )
        await openai_fake.wait_for_requests(1)
        task.cancel()
        left = time.monotonic()
    await openai_fake.wait_for_disconnect(1, timeout=1)
    assert openai_fake.requests[0].disconnected_at - left < 0.2
    await asyncio.sleep(0.05)
    assert router.state.runtime.upstreams[0].active_requests() == 0
    assert router.state.cooldowns.active("p") == []


async def test_silent_upstream_gets_keepalive_then_idle_error(
    router_factory: StartRouter, openai_fake
) -> None:
    config = config_for(openai_fake, streaming={"keepalive-interval": 0.1}, timeouts={"idle": 0.45})
    router = await router_factory(config)
    openai_fake.script.push(Stall(after_chunks=1))
    async with aiohttp.ClientSession() as http:
        async with http.post(router.url + "/v1/chat/completions", json=BODY) as response:
            raw = (await response.read()).decode()
    assert raw.count(": keep-alive") >= 2
    last = [line for line in raw.splitlines() if line.startswith("data: ")][-1]
    error = json.loads(last[6:])["error"]
    assert error["type"] == "timeout_error" and "silent" in error["message"]
    await openai_fake.wait_for_disconnect(1, timeout=1)


async def test_stream_to_non_sse_answer_is_rejected(router_factory: StartRouter) -> None:
    from aiohttp import web

    async def not_sse(request: web.Request) -> web.Response:
        return web.json_response({"surprise": True})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", not_sse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        config = {
            "routing": {"max-retries": 0},
            "providers": [provider("odd", f"http://127.0.0.1:{port}/v1", ["k"], ["m"])],
        }
        router = await router_factory(config)
        async with aiohttp.ClientSession() as http:
            async with http.post(router.url + "/v1/chat/completions", json=BODY) as response:
                assert response.status == 502
                assert "application/json" in (await response.json())["error"]["message"]
    finally:
        await runner.cleanup()


async def test_garbage_non_stream_body_is_502(router_factory: StartRouter, openai_fake) -> None:
    from tests.fakes.behaviours import Garbage

    router = await router_factory({"routing": {"max-retries": 0}, **config_for(openai_fake)})
    openai_fake.script.push(Garbage())
    async with aiohttp.ClientSession() as http:
        async with http.post(
            router.url + "/v1/chat/completions", json={**BODY, "stream": False}
        ) as response:
            assert response.status == 502
            assert "not JSON" in (await response.json())["error"]["message"]


async def test_client_leaving_a_silent_stream_is_not_mistaken_for_silence(
    router_factory: StartRouter, openai_fake
) -> None:
    config = config_for(openai_fake, streaming={"keepalive-interval": 0.05})
    router = await router_factory(config)
    openai_fake.script.push(Stall(after_chunks=1))
    async with aiohttp.ClientSession() as http:
        response = await http.post(router.url + "/v1/chat/completions", json=BODY)
        received = b""
        while received.count(b": keep-alive") < 2:
            received += await response.content.readany()
        response.close()
        left = time.monotonic()
    await openai_fake.wait_for_disconnect(1, timeout=1)
    assert openai_fake.requests[0].disconnected_at - left < 0.2
    deadline = time.monotonic() + 1
    while router.state.runtime.upstreams[0].active_requests() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert router.state.runtime.upstreams[0].active_requests() == 0
