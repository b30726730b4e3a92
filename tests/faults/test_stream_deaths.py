"""An upstream that keeps dying mid-stream has its credential cooled; a client that leaves
never counts against it."""

from __future__ import annotations

import aiohttp

from router.routing.stream_deaths import StreamDeaths
from tests.conftest import StartRouter
from tests.fakes.behaviours import Drop, Stall, Stream, Truncate
from tests.faults.clients import MODEL, Fakes, ask, fault_config, request_for, settle

SLOW = Stream(chunks=4, interval=0.05)


async def test_repeated_mid_stream_deaths_cool_the_credential(
    router_factory: StartRouter, fakes: Fakes
) -> None:
    config = fault_config(
        fakes, routing={"mid-stream-failures": 3, "mid-stream-window": 60}, timeouts={"idle": 0.5}
    )
    router = await router_factory(config)
    faults = [Drop(after_chunks=2, reply=SLOW), Truncate(2, SLOW), Stall(2, SLOW)]
    for count, fault in enumerate(faults, 1):
        fakes.openai.script.push(fault)
        answer = await ask(router, "openai", MODEL["openai"], stream=True)
        assert answer.status == 200
        cooling = router.state.cooldowns.active("p-openai")
        if count < len(faults):
            assert cooling == [], f"cooled after {count} deaths"
    assert [c["credential"] for c in cooling] == ["key1"]
    assert "broke 3 streams mid-way" in cooling[0]["reason"]
    assert await settle(router, fakes) is None


async def test_clients_leaving_mid_stream_never_cool_anything(
    router_factory: StartRouter, fakes: Fakes
) -> None:
    config = fault_config(fakes, routing={"mid-stream-failures": 1})
    router = await router_factory(config)
    path, body = request_for("openai", MODEL["openai"], stream=True)
    for _ in range(3):
        fakes.openai.script.push(Stream(chunks=500, interval=0.01))
        async with aiohttp.ClientSession() as http:
            response = await http.post(router.url + path, json=body)
            await response.content.readline()
            response.close()
        assert await settle(router, fakes) is None
    assert router.state.cooldowns.active("p-openai") == []


def test_deaths_outside_the_window_are_forgotten() -> None:
    now = [0.0]
    deaths = StreamDeaths(failures=2, window=10, clock=lambda: now[0])
    assert not deaths.record("p", "k", "m")
    now[0] = 11
    assert not deaths.record("p", "k", "m")
    assert not deaths.record("p", "other", "m")
    now[0] = 12
    assert deaths.record("p", "k", "m")
    assert not deaths.record("p", "k", "m"), "the count starts again after cooling"
