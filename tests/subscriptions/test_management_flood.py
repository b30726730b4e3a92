"""Management guessing floods through a real router: the loop stays free, the owner gets in.

Before the fix each guess ran scrypt on the event loop (160 parallel guesses stalled
/v1/health for seconds), each loopback address had its own lockout, and five wrong
guesses locked the right secret out too.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.conftest import StartRouter

SECRET = "correct horse battery staple"
STATUS = "/v1/auth/llmux/claude/status"


async def guess(url: str, secret: str, source: str = "127.0.0.1") -> tuple[int, str]:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.get(url + STATUS, headers={"X-Management-Key": secret}) as response,
    ):
        body = await response.json()
        return response.status, body.get("error", {}).get("message", "")


async def health_latencies(url: str, stop: asyncio.Event) -> list[float]:
    latencies = []
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            started = time.monotonic()
            async with http.get(url + "/v1/health") as response:
                assert response.status == 200
                await response.read()
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.05)
    return latencies


async def test_parallel_guesses_do_not_stall_the_router_and_the_owner_gets_in(
    router_factory: StartRouter,
) -> None:
    router = await router_factory({"management": {"secret": SECRET, "max-delay": 0.5}})
    stop = asyncio.Event()
    watcher = asyncio.create_task(health_latencies(router.url, stop))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    answers = await asyncio.gather(
        *(guess(router.url, f"wrong-{i}", source=f"127.0.0.{i + 2}") for i in range(160))
    )
    flood_seconds = time.monotonic() - started
    stop.set()
    latencies = await watcher
    # 160 scrypt checks take several seconds of CPU; on the loop they stalled health.
    assert flood_seconds > 2 and len(latencies) > 10
    assert max(latencies) < 1.5, latencies
    assert {status for status, _ in answers} == {401}
    assert sum("answered slowly" in message for _, message in answers) >= 150
    status, _ = await guess(router.url, SECRET)
    assert status == 200


async def test_guesses_from_other_loopback_addresses_count_together(
    router_factory: StartRouter,
) -> None:
    router = await router_factory({"management": {"secret": SECRET, "max-delay": 0.4}})
    for i in range(2, 7):
        status, message = await guess(router.url, "wrong", source=f"127.0.0.{i}")
        assert status == 401 and "slowly" not in message
    started = time.monotonic()
    status, message = await guess(router.url, "wrong", source="127.0.0.9")
    assert status == 401 and "answered slowly" in message
    assert time.monotonic() - started >= 0.25
    status, _ = await guess(router.url, SECRET, source="127.0.0.2")
    assert status == 200
