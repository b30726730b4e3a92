"""RelayHub against protocol-level peers (plain `websockets` clients, no browser)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from router.relay import RelayError, RelayHub, RelayUnavailable
from testkit.relay_peer import RelayPeer, Send, never_answer, stream_handler
from tests.aistudio.conftest import HubServer, start_hub_server

GEMINI_URL = (
    "https://generativelanguage.googleapis.com/v1beta/models/g:streamGenerateContent?alt=sse"
)


async def collect(reply: Any) -> list[bytes]:
    return [chunk async for chunk in reply]


async def test_streamed_request_arrives_chunk_by_chunk(hub_server: HubServer) -> None:
    chunks = [f'data: {{"n": {i}}}\n\n' for i in range(5)]
    async with RelayPeer(hub_server.ws_url("applet"), stream_handler(chunks)) as peer:
        async with asyncio.timeout(5):
            await hub_server.hub.wait_for_session("applet")
            reply = await hub_server.hub.request(
                "POST", GEMINI_URL, {"Content-Type": ["application/json"]}, '{"contents":[]}'
            )
            assert reply.status == 200
            assert reply.streaming is True
            assert reply.headers["X-Peer"] == "yes"
            assert await collect(reply) == [c.encode() for c in chunks]
            await reply.aclose()
        sent = peer.requests[0]["payload"]
        assert sent["method"] == "POST"
        assert sent["url"] == GEMINI_URL
        assert sent["headers"] == {"Content-Type": ["application/json"]}
        assert sent["body"] == '{"contents":[]}'
        assert datetime.fromisoformat(sent["sent_at"].replace("Z", "+00:00")).tzinfo
        assert peer.cancelled == [], "a finished request must not be cancelled"


async def test_plain_response_and_error_frames(hub_server: HubServer) -> None:
    async def handler(frame_id: str, payload: dict[str, Any], send: Send) -> None:
        body = json.loads(payload["body"])
        if body["mode"] == "plain":
            await send(frame_id, "http_response", {"status": 200, "headers": {}, "body": "{}"})
        elif body["mode"] == "error":
            await send(frame_id, "error", {"error": "quota exhausted", "status": 429})
        else:
            await send(frame_id, "stream_start", {"status": 200, "headers": {}})
            await send(frame_id, "stream_chunk", {"data": "data: 1\n\n"})
            await send(frame_id, "error", {"error": "stream cut", "status": 502})

    async with RelayPeer(hub_server.ws_url(), handler), asyncio.timeout(5):
        await hub_server.hub.wait_for_session()
        plain = await hub_server.hub.request("POST", GEMINI_URL, {}, '{"mode":"plain"}')
        assert (plain.status, plain.streaming, await collect(plain)) == (200, False, [b"{}"])
        with pytest.raises(RelayError) as head_error:
            await hub_server.hub.request("POST", GEMINI_URL, {}, '{"mode":"error"}')
        assert head_error.value.status == 429
        assert "quota exhausted" in str(head_error.value)
        cut = await hub_server.hub.request("POST", GEMINI_URL, {}, '{"mode":"cut"}')
        received = []
        with pytest.raises(RelayError, match="stream cut"):
            async for chunk in cut:
                received.append(chunk)
        assert received == [b"data: 1\n\n"]


async def test_ping_frame_answered_with_pong(hub_server: HubServer) -> None:
    async with RelayPeer(hub_server.ws_url(), never_answer()) as peer:
        await peer.send("ping-7", "ping", {})
        async with asyncio.timeout(5):
            await peer.wait_for_frame("pong")
        assert [f["id"] for f in peer.frames if f["type"] == "pong"] == ["ping-7"]


async def test_slow_consumer_receives_every_frame_in_order() -> None:
    served = await start_hub_server(RelayHub(frame_queue=4))
    chunks = [f"data: {i}\n\n" for i in range(1000)]
    try:
        async with RelayPeer(served.ws_url(), stream_handler(chunks)), asyncio.timeout(30):
            await served.hub.wait_for_session()
            reply = await served.hub.request("POST", GEMINI_URL, {}, "{}")
            received = []
            async for chunk in reply:
                received.append(chunk.decode())
                if len(received) % 100 == 0:
                    await asyncio.sleep(0.05)
            assert received == chunks
    finally:
        await served.hub.close()
        await served.server.close()


async def test_aclose_sends_cancel_to_peer(hub_server: HubServer) -> None:
    async def handler(frame_id: str, payload: dict[str, Any], send: Send) -> None:
        await send(frame_id, "stream_start", {"status": 200, "headers": {}})
        await send(frame_id, "stream_chunk", {"data": "data: first\n\n"})

    async with RelayPeer(hub_server.ws_url(), handler) as peer, asyncio.timeout(5):
        await hub_server.hub.wait_for_session()
        reply = await hub_server.hub.request("POST", GEMINI_URL, {}, "{}")
        assert await anext(reply) == b"data: first\n\n"
        await reply.aclose()
        await peer.cancel_seen.wait()
        assert peer.cancelled == [peer.requests[0]["id"]]
        cancel_frame = next(f for f in peer.frames if f["type"] == "cancel")
        assert set(cancel_frame) <= {"id", "type", "payload"}
        assert hub_server.hub.sessions()[0]["in_flight"] == 0


async def test_cancelled_requester_task_sends_cancel(hub_server: HubServer) -> None:
    async with RelayPeer(hub_server.ws_url(), never_answer()) as peer, asyncio.timeout(5):
        await hub_server.hub.wait_for_session()
        task = asyncio.create_task(hub_server.hub.request("POST", GEMINI_URL, {}, "{}"))
        await peer.request_seen.wait()
        task.cancel()
        await peer.cancel_seen.wait()
        assert peer.cancelled == [peer.requests[0]["id"]]


async def test_disconnect_fails_started_request_at_once(hub_server: HubServer) -> None:
    async def handler(frame_id: str, payload: dict[str, Any], send: Send) -> None:
        await send(frame_id, "stream_start", {"status": 200, "headers": {}})
        await send(frame_id, "stream_chunk", {"data": "data: 1\n\n"})

    async with RelayPeer(hub_server.ws_url("solo"), handler) as peer, asyncio.timeout(5):
        await hub_server.hub.wait_for_session()
        reply = await hub_server.hub.request("POST", GEMINI_URL, {}, "{}")
        assert await anext(reply) == b"data: 1\n\n"
        await peer.disconnect()
        with pytest.raises(RelayError, match="relay session 'solo' dropped"):
            await anext(reply)
    with pytest.raises(RelayUnavailable):
        await hub_server.hub.request("POST", GEMINI_URL, {}, "{}")


async def test_disconnect_moves_unstarted_request_to_other_session(
    hub_server: HubServer,
) -> None:
    hub = hub_server.hub
    async with (
        RelayPeer(hub_server.ws_url("a"), never_answer()) as peer_a,
        RelayPeer(hub_server.ws_url("b"), never_answer()) as peer_b,
        asyncio.timeout(5),
    ):
        peer_b.request_seen = peer_a.request_seen
        await hub.wait_for_session("a")
        await hub.wait_for_session("b")
        task = asyncio.create_task(hub.request("POST", GEMINI_URL, {}, "{}"))
        await peer_a.request_seen.wait()
        first, second = (peer_a, peer_b) if peer_a.request_seen.is_set() else (peer_b, peer_a)
        second.handler = stream_handler(["data: moved\n\n"])
        await first.disconnect()
        reply = await task
        assert await collect(reply) == [b"data: moved\n\n"]
        assert second.requests[0]["id"] == first.requests[0]["id"]


async def test_same_name_replaces_old_connection_and_takes_its_requests(
    hub_server: HubServer,
) -> None:
    hub = hub_server.hub
    async with RelayPeer(hub_server.ws_url("dup"), never_answer()) as old, asyncio.timeout(5):
        await hub.wait_for_session("dup")
        task = asyncio.create_task(hub.request("POST", GEMINI_URL, {}, "{}"))
        await old.request_seen.wait()
        async with RelayPeer(hub_server.ws_url("dup"), stream_handler(["data: new\n\n"])) as new:
            reply = await task
            assert await collect(reply) == [b"data: new\n\n"]
            assert len(new.requests) == 1
            assert [s["name"] for s in hub.sessions()] == ["dup"]


async def test_round_robin_over_sessions_and_pinned_requests(hub_server: HubServer) -> None:
    """The hub alternates unpinned requests and serves a pinned one where it is asked; which
    session rests is the router's selector's business (its cooldowns), not the hub's."""
    hub = hub_server.hub

    def answer(tag: str) -> Any:
        async def handler(frame_id: str, payload: dict[str, Any], send: Send) -> None:
            await send(frame_id, "http_response", {"status": 200, "headers": {}, "body": tag})

        return handler

    async with (
        RelayPeer(hub_server.ws_url("x"), answer("x")),
        RelayPeer(hub_server.ws_url("y"), answer("y")),
        asyncio.timeout(5),
    ):
        await hub.wait_for_session("x")
        await hub.wait_for_session("y")

        async def who(session: str | None = None) -> str:
            reply = await hub.request("POST", GEMINI_URL, {}, "{}", session=session)
            return b"".join(await collect(reply)).decode()

        served = [await who() for _ in range(4)]
        assert sorted(served) == ["x", "x", "y", "y"]
        assert served[0] != served[1]
        assert [await who("y") for _ in range(3)] == ["y", "y", "y"]
        assert {s["name"]: s["state"] for s in hub.sessions()} == {"x": "ready", "y": "ready"}
        with pytest.raises(RelayUnavailable, match="'z' is not connected"):
            await hub.request("POST", GEMINI_URL, {}, "{}", session="z")


async def test_silent_peer_is_dropped_and_its_request_fails() -> None:
    served = await start_hub_server(RelayHub(ping_interval=0.1, peer_timeout=0.4))
    try:
        async with (
            aiohttp.ClientSession() as client,
            client.ws_connect(served.ws_url("mute"), autoping=False) as ws,
            asyncio.timeout(5),
        ):
            await served.hub.wait_for_session("mute")
            task = asyncio.create_task(served.hub.request("POST", GEMINI_URL, {}, "{}"))
            with pytest.raises(RelayError, match="peer silent"):
                await task
            assert served.hub.sessions() == []
            assert ws is not None
    finally:
        await served.hub.close()
        await served.server.close()


async def test_answering_peer_is_kept_alive_by_pings() -> None:
    served = await start_hub_server(RelayHub(ping_interval=0.05, peer_timeout=0.2))
    try:
        async with RelayPeer(served.ws_url("live"), never_answer()), asyncio.timeout(5):
            await served.hub.wait_for_session("live")
            await asyncio.sleep(0.6)
            assert [s["name"] for s in served.hub.sessions()] == ["live"]
    finally:
        await served.hub.close()
        await served.server.close()


async def test_login_frame_tells_the_owner() -> None:
    logins: list[str] = []
    served = await start_hub_server(RelayHub(), on_login=logins.append)
    hub = served.hub
    try:
        async with RelayPeer(served.ws_url("studio"), never_answer()) as peer, asyncio.timeout(5):
            await hub.wait_for_session("studio")
            await peer.send("login-1", "session_login", {})
            while not logins:
                await asyncio.sleep(0.01)
            assert logins == ["studio"]
            assert [s["state"] for s in hub.sessions()] == ["ready"]
            assert not [f for f in peer.frames if f["id"] == "login-1"], "no answer to it"
    finally:
        await hub.close()
        await served.server.close()
