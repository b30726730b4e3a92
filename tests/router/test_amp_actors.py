"""Amp CLI's thread-actor sockets (/actors/...) go to the configured Amp server, frames
relayed both ways, with the handshake the CLI recorded (tests/clients/corpus/amp)."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
import pytest

from tests.clients.corpus import Captured, load_corpus
from tests.conftest import RunningRouter, StartRouter
from tests.fakes.amp import ACTOR_GATEWAY, BARE_ENCODING, CONN_PARAMS, AmpFake

AMP_KEY = AmpFake.default_keys[0]  # what the amp_fake fixture accepts
ROUTER_KEY = "router-client-key"


@pytest.fixture
async def router(router_factory: StartRouter, amp_fake: AmpFake) -> RunningRouter:
    amp = {"upstream-url": amp_fake.base_url, "api-key": AMP_KEY}
    return await router_factory({"amp": amp, "api-keys": [ROUTER_KEY]})


def recorded_handshake() -> Captured:
    """The first thread-actor socket the pinned Amp CLI opened while recorded."""
    return next(
        c for c in load_corpus() if c.client == "amp" and c.path == ACTOR_GATEWAY
    )  # fmt: skip


def protocols_for(token: str, encoding: str = BARE_ENCODING) -> list[str]:
    """The recorded subprotocols, with the fake's wsToken and the given encoding."""
    protocols = []
    for protocol in recorded_handshake().headers["Sec-WebSocket-Protocol"].split(", "):
        if protocol.startswith(CONN_PARAMS):
            params = {**json.loads(unquote(protocol[len(CONN_PARAMS) :])), "wsToken": token}
            protocol = CONN_PARAMS + quote(json.dumps(params), safe="")
        elif protocol == BARE_ENCODING:
            protocol = encoding
        protocols.append(protocol)
    return protocols


async def new_thread(router: RunningRouter) -> dict[str, Any]:
    """A thread created through the router, as the CLI creates it (recorded body)."""
    created = next(
        c for c in load_corpus() if c.client == "amp" and c.path == "/api/thread-actors"
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {ROUTER_KEY}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(router.url + created.path, json=created.body) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())


def socket_url(router: RunningRouter, thread_id: str) -> str:
    query = {**recorded_handshake().query, "rvt-key": thread_id}
    return router.url + ACTOR_GATEWAY + "?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())


async def test_frames_are_relayed_both_ways_and_no_key_reaches_the_socket(
    router: RunningRouter, amp_fake: AmpFake
) -> None:
    thread = await new_thread(router)
    protocols = protocols_for(thread["wsToken"], encoding="rivet_encoding.json")
    async with aiohttp.ClientSession() as http:
        # The CLI sends no key on its socket; one sent anyway must not reach the Amp server.
        async with http.ws_connect(
            socket_url(router, thread["threadId"]),
            protocols=protocols,
            headers={"Authorization": f"Bearer {ROUTER_KEY}"},
        ) as socket:
            assert socket.protocol == "rivet"
            await socket.send_str('{"hello": 1}')
            assert (await socket.receive_str(timeout=5)) == '{"hello": 1}'
            await socket.send_bytes(b"\x00\x01binary")
            assert (await socket.receive_bytes(timeout=5)) == b"\x00\x01binary"
    [seen] = amp_fake.sockets
    assert seen["thread"] == thread["threadId"]
    assert seen["protocols"] == protocols
    assert seen["frames"] == ['{"hello": 1}', b"\x00\x01binary"]
    assert "Authorization" not in seen["headers"]
    assert ROUTER_KEY not in json.dumps(seen["headers"])


async def test_a_client_that_leaves_closes_the_upstream_socket(
    router: RunningRouter, amp_fake: AmpFake
) -> None:
    thread = await new_thread(router)
    protocols = protocols_for(thread["wsToken"], encoding="rivet_encoding.json")
    async with aiohttp.ClientSession() as http:
        socket = await http.ws_connect(socket_url(router, thread["threadId"]), protocols=protocols)
        await socket.send_str("ping")
        assert (await socket.receive_str(timeout=5)) == "ping"
        await socket.close()
    for _ in range(50):
        if amp_fake.sockets[0]["closed"]:
            break
        await asyncio.sleep(0.05)
    assert amp_fake.sockets[0]["closed"], "the Amp server's socket stayed open"


async def test_an_amp_server_that_goes_away_closes_the_clients_socket(
    router: RunningRouter, amp_fake: AmpFake
) -> None:
    thread = await new_thread(router)
    protocols = protocols_for(thread["wsToken"], encoding="rivet_encoding.json")
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(
            socket_url(router, thread["threadId"]), protocols=protocols
        ) as socket:
            await socket.send_str("ping")
            assert (await socket.receive_str(timeout=5)) == "ping"
            await amp_fake.close()
            closing = await socket.receive(timeout=5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert socket.close_code is not None


async def test_the_amp_servers_refusal_reaches_the_cli(
    router: RunningRouter, amp_fake: AmpFake
) -> None:
    """The CLI's own (bare-encoded) socket, which the fake refuses: the status comes back."""
    thread = await new_thread(router)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                socket_url(router, thread["threadId"]), protocols=protocols_for(thread["wsToken"])
            )
        assert refused.value.status == 501
        async with http.get(
            socket_url(router, thread["threadId"]),
            headers={
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Protocol": ", ".join(protocols_for(thread["wsToken"])),
            },
        ) as response:
            assert response.status == 501
            assert "refused the thread-actor connection" in await response.text()
    assert len(amp_fake.sockets) == 2


async def test_a_wrong_ws_token_is_refused_by_the_amp_server_not_the_router(
    router: RunningRouter, amp_fake: AmpFake
) -> None:
    thread = await new_thread(router)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                socket_url(router, thread["threadId"]),
                protocols=protocols_for("wst-not-issued", encoding="rivet_encoding.json"),
            )
    assert refused.value.status == 401
    assert amp_fake.last_request.path == ACTOR_GATEWAY
    assert amp_fake.sockets == []


async def test_plain_http_under_actors_is_proxied_with_the_amp_key(
    router: RunningRouter, amp_fake: AmpFake
) -> None:
    headers = {"Authorization": f"Bearer {ROUTER_KEY}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(router.url + "/actors/metadata") as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "not-found"
    assert amp_fake.last_request.path == "/actors/metadata"
    assert amp_fake.last_request.headers["Authorization"] == f"Bearer {AMP_KEY}"


async def test_the_keyless_socket_path_takes_no_plain_http(
    router: RunningRouter, amp_fake: AmpFake
) -> None:
    """Only the socket skips the router key; plain HTTP there never carries the Amp key out."""
    async with aiohttp.ClientSession() as http:
        async with http.get(socket_url(router, "T-1")) as response:
            assert response.status == 400
            assert "WebSocket" in (await response.json())["error"]["message"]
    assert amp_fake.requests == []


async def test_an_unreachable_amp_server_is_a_502_naming_the_setting(
    router_factory: StartRouter,
) -> None:
    router = await router_factory({"amp": {"upstream-url": "http://127.0.0.1:9", "api-key": "k"}})
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as failed:
            await http.ws_connect(socket_url(router, "T-1"), protocols=["rivet"])
        assert failed.value.status == 502
        async with http.get(
            socket_url(router, "T-1"),
            headers={
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        ) as response:
            assert "amp.upstream-url" in await response.text()


async def test_a_web_page_cannot_open_the_keyless_actor_socket(
    router: RunningRouter, amp_fake: AmpFake
) -> None:
    thread = await new_thread(router)
    before = len(amp_fake.requests)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                socket_url(router, thread["threadId"]),
                protocols=protocols_for(thread["wsToken"]),
                headers={"Origin": "https://evil.example"},
            )
    assert refused.value.status == 403
    assert len(amp_fake.requests) == before
