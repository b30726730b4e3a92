"""Amp's backend routes go to the configured Amp server; its model calls stay local."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import aiohttp
import pytest

from tests.clients.corpus import load_corpus
from tests.conftest import StartRouter, provider
from tests.fakes.amp import AmpFake
from tests.fakes.openai import OpenAIFake
from tests.router.test_config import problems_for

AMP_KEY = AmpFake.default_keys[0]  # what the amp_fake fixture accepts
ROUTER_KEY = "router-client-key"


def config(amp: AmpFake, openai: OpenAIFake | None = None, **top: object) -> dict:
    providers = []
    if openai is not None:
        providers = [provider("openai", openai.base_url + "/v1", [openai.key], ["gpt-4o"])]
    return {
        "amp": {"upstream-url": amp.base_url, "api-key": AMP_KEY},
        "providers": providers,
        **top,
    }


async def test_recorded_amp_requests_reach_the_amp_server_with_the_users_key(
    router_factory: StartRouter, amp_fake: AmpFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    router = await router_factory(config(amp_fake, **{"api-keys": [ROUTER_KEY]}))
    # Amp's backend calls (its thread-actor sockets are tests/router/test_amp_actors.py's).
    recorded = [c for c in load_corpus() if c.client == "amp" and c.path.startswith("/api/")]
    assert recorded, "the corpus holds Amp CLI's requests"
    thread_id = None  # the thread the fake issued stands in for the recorded one
    for captured in recorded:
        body = captured.body
        if isinstance(body, dict) and "threadId" in body:
            body = {**body, "threadId": thread_id}
        headers = {k: v for k, v in captured.headers.items() if k.lower().startswith("x-amp")}
        headers["Authorization"] = f"Bearer {ROUTER_KEY}"
        async with aiohttp.ClientSession() as http:
            async with http.request(
                captured.method,
                router.url + captured.path,
                params=captured.query,
                data=json.dumps(body),
                headers={**headers, "Content-Type": "application/json"},
            ) as response:
                assert response.status == 200, await response.text()
                answer = await response.json()
        received = amp_fake.last_request
        assert (received.method, received.path) == (captured.method, captured.path)
        assert dict(received.query) == captured.query
        assert received.json == body
        assert received.headers["Authorization"] == f"Bearer {AMP_KEY}"
        assert all(received.headers[name] == value for name, value in headers.items()
                   if name != "Authorization")  # fmt: skip
        if captured.path == "/api/internal":
            assert answer["ok"] is True
            assert response.headers["Set-Cookie"].startswith("amp_session="), (
                "upstream headers reach the client"
            )
        if captured.path == "/api/thread-actors":
            thread_id = answer["threadId"]
    assert ROUTER_KEY not in json.dumps([dict(r.headers) for r in amp_fake.requests])
    lines = [r.fields for r in caplog.records if r.name == "router.request"]  # type: ignore[attr-defined]
    assert len(lines) == len(recorded) and all(f["upstream"] == "amp" for f in lines)
    everything = " ".join(str(r.__dict__) for r in caplog.records)
    assert AMP_KEY not in everything and ROUTER_KEY not in everything


async def test_answers_stream_through_as_they_arrive(
    router_factory: StartRouter, amp_fake: AmpFake
) -> None:
    router = await router_factory(config(amp_fake))
    arrivals = []
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        url = router.url + "/api/stream?chunks=3&interval=0.4"
        async with http.get(url) as response:
            async for line in response.content:
                arrivals.append((line, time.monotonic() - started))
    assert [line for line, _ in arrivals] == [b"chunk0\n", b"chunk1\n", b"chunk2\n"]
    assert arrivals[0][1] < 0.6, "the first chunk waited for the whole answer"


async def test_provider_routes_stay_local(
    router_factory: StartRouter, amp_fake: AmpFake, openai_fake: OpenAIFake
) -> None:
    router = await router_factory(config(amp_fake, openai_fake))
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as http:
        url = router.url + "/api/provider/openai/v1/chat/completions"
        async with http.post(url, json=body) as response:
            assert response.status == 200
            assert (await response.json())["choices"][0]["message"]["content"] == "echo: hi"
        async with http.post(router.url + "/api/provider/openai/v1/nothing", json={}) as missing:
            assert missing.status == 404
    assert len(openai_fake.requests) == 1
    assert amp_fake.requests == []


async def test_router_key_is_checked_and_never_forwarded(
    router_factory: StartRouter, amp_fake: AmpFake
) -> None:
    router = await router_factory(config(amp_fake, **{"api-keys": [ROUTER_KEY]}))
    async with aiohttp.ClientSession() as http:
        async with http.post(router.url + "/api/internal?getUserInfo", json={}) as response:
            assert response.status == 401
    assert amp_fake.requests == []


async def test_without_an_amp_key_a_keyed_router_says_what_to_set(
    router_factory: StartRouter, amp_fake: AmpFake
) -> None:
    router = await router_factory(
        {"amp": {"upstream-url": amp_fake.base_url}, "api-keys": [ROUTER_KEY]}
    )
    headers = {"Authorization": f"Bearer {ROUTER_KEY}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(router.url + "/api/internal?getUserInfo", json={}) as response:
            assert response.status == 403
            assert "amp.api-key" in (await response.json())["error"]["message"]
    assert amp_fake.requests == []


async def test_without_router_keys_the_clients_own_amp_key_is_forwarded(
    router_factory: StartRouter, amp_fake: AmpFake
) -> None:
    router = await router_factory({"amp": {"upstream-url": amp_fake.base_url}})
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {AMP_KEY}"}) as http:
        async with http.post(router.url + "/api/internal?getUserInfo", json={}) as response:
            assert response.status == 200
    assert amp_fake.last_request.headers["Authorization"] == f"Bearer {AMP_KEY}"


async def test_unreachable_amp_server_is_a_502_naming_the_setting(
    router_factory: StartRouter,
) -> None:
    router = await router_factory({"amp": {"upstream-url": "http://127.0.0.1:9", "api-key": "k"}})
    async with aiohttp.ClientSession() as http:
        async with http.get(router.url + "/api/user") as response:
            assert response.status == 502
            message = (await response.json())["error"]["message"]
    assert "amp.upstream-url" in message


def test_amp_config_errors_name_the_key(tmp_path: Path) -> None:
    assert problems_for(tmp_path, {"amp": {"upstream-url": "ampcode.com"}}) == [
        "amp.upstream-url: expected an absolute http/https URL, got 'ampcode.com'"
    ]
    assert problems_for(tmp_path, {"amp": {"api-kye": "x"}}) == [
        "amp.api-kye: unknown key (did you mean 'api-key'?)"
    ]


async def test_large_bodies_are_streamed_through_whole(
    router_factory: StartRouter, amp_fake: AmpFake
) -> None:
    router = await router_factory(config(amp_fake))
    body = b"x" * (3 * 1024 * 1024)
    async with aiohttp.ClientSession() as http:
        async with http.post(router.url + "/api/telemetry", data=body) as response:
            assert response.status == 200
    assert amp_fake.last_request.body == body
