"""A misbehaving relay peer fails one request, never the router or the peer's session.

Before the fix a ``stream_start`` with a non-integer status was a 500 that left the
request in flight forever, one deeply nested frame dropped the peer's whole session, and
a session name with a newline forged log lines.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import openai
import pytest

from router.logs import LineFormatter, logfmt
from router.relay import RelayError
from testkit.relay_peer import RelayPeer, Send, stream_handler
from tests.aistudio.conftest import HubServer
from tests.aistudio.test_router_aistudio_errors import MESSAGES, MODEL, aistudio_config, ws_url
from tests.conftest import StartRouter

GEMINI_URL = "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent"
DEEP = "[" * 100_000 + "]" * 100_000


def head_with(frame_type: str, payload: dict[str, Any]) -> Any:
    async def handler(frame_id: str, request: dict[str, Any], send: Send) -> None:
        if request["body"] == '"fine"':
            await send(frame_id, "http_response", {"status": 200, "body": "ok"})
        else:
            await send(frame_id, frame_type, payload)

    return handler


async def fine_request(hub_server: HubServer) -> None:
    """The same session still answers: the fault cost one request, not the session."""
    reply = await hub_server.hub.request("POST", GEMINI_URL, {}, '"fine"')
    assert [chunk async for chunk in reply] == [b"ok"]
    assert [s["in_flight"] for s in hub_server.hub.sessions()] == [0]


@pytest.mark.parametrize(
    ("frame_type", "payload"),
    [
        ("stream_start", {"status": "200"}),
        ("stream_start", {"status": 2.5}),
        ("stream_start", {"status": 99999}),
        ("stream_start", {"status": True}),
        ("stream_start", {"status": None, "headers": {}, "x": [[[]]]}),
        ("http_response", {"status": 10**40, "body": "x"}),
        ("http_response", {"status": 200, "body": {"not": "a string"}}),
        ("stream_chunk", {"data": "early"}),
    ],
)
async def test_a_bad_head_fails_its_request_and_frees_it(
    hub_server: HubServer, frame_type: str, payload: dict[str, Any]
) -> None:
    async with RelayPeer(hub_server.ws_url("applet"), head_with(frame_type, payload)) as peer:
        async with asyncio.timeout(5):
            await hub_server.hub.wait_for_session("applet")
            if payload.get("headers") == {}:
                reply = await hub_server.hub.request("POST", GEMINI_URL, {}, "{}")
                assert reply.status == 200
                await reply.aclose()
            else:
                with pytest.raises(RelayError) as failed:
                    await hub_server.hub.request("POST", GEMINI_URL, {}, "{}")
                assert failed.value.status == 502
                assert "malformed" in failed.value.message
            if frame_type == "stream_start" or frame_type == "stream_chunk":
                await peer.cancel_seen.wait()
            await fine_request(hub_server)


async def test_an_error_frame_with_an_odd_status_is_a_502(hub_server: HubServer) -> None:
    handler = head_with("error", {"status": 10**40, "error": {"deep": [1]}})
    async with RelayPeer(hub_server.ws_url(), handler), asyncio.timeout(5):
        await hub_server.hub.wait_for_session()
        with pytest.raises(RelayError) as failed:
            await hub_server.hub.request("POST", GEMINI_URL, {}, "{}")
        assert failed.value.status == 502
        await fine_request(hub_server)


async def test_a_chunk_that_is_not_text_fails_the_stream_cleanly(hub_server: HubServer) -> None:
    async def handler(frame_id: str, request: dict[str, Any], send: Send) -> None:
        if request["body"] == '"fine"':
            await send(frame_id, "http_response", {"status": 200, "body": "ok"})
            return
        await send(frame_id, "stream_start", {"status": 200})
        await send(frame_id, "stream_chunk", {"data": 10**9})

    async with RelayPeer(hub_server.ws_url(), handler) as peer, asyncio.timeout(5):
        await hub_server.hub.wait_for_session()
        reply = await hub_server.hub.request("POST", GEMINI_URL, {}, "{}")
        with pytest.raises(RelayError, match="not a string"):
            await anext(reply)
        await reply.aclose()
        await peer.cancel_seen.wait()
        await fine_request(hub_server)


async def test_a_deeply_nested_frame_fails_only_its_request(hub_server: HubServer) -> None:
    peer_ref: list[RelayPeer] = []

    async def handler(frame_id: str, request: dict[str, Any], send: Send) -> None:
        if request["body"] == '"fine"':
            await send(frame_id, "http_response", {"status": 200, "body": "ok"})
            return
        await send(frame_id, "stream_start", {"status": 200})
        await peer_ref[0].send_raw(f'{{"id":"{frame_id}","type":"stream_chunk","payload":{DEEP}}}')

    async with RelayPeer(hub_server.ws_url("applet"), handler) as peer, asyncio.timeout(10):
        peer_ref.append(peer)
        await hub_server.hub.wait_for_session("applet")
        await peer.send_raw('{"type":"stream_chunk","payload":' + DEEP + "}")
        reply = await hub_server.hub.request("POST", GEMINI_URL, {}, "{}")
        with pytest.raises(RelayError, match="nested too deeply"):
            await anext(reply)
        await reply.aclose()
        await peer.cancel_seen.wait()
        await fine_request(hub_server)
        assert [s["name"] for s in hub_server.hub.sessions()] == ["applet"]


async def test_a_bad_status_through_the_router_is_a_502_in_the_callers_format(
    router_factory: StartRouter,
) -> None:
    router = await router_factory({**aistudio_config(), "routing": {"max-retries": 0}})
    handler = head_with("stream_start", {"status": "two hundred"})
    async with RelayPeer(ws_url(router.url), handler):
        async with asyncio.timeout(5):
            await router.state.relay.wait_for_session("applet")
        chat = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
        async with asyncio.timeout(10):
            with pytest.raises(openai.APIStatusError) as failed:
                await chat.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        assert failed.value.status_code == 502
        assert "malformed" in failed.value.message
        assert [s["in_flight"] for s in router.state.relay.sessions()] == [0]


async def test_a_session_name_cannot_forge_log_lines(
    hub_server: HubServer, caplog: pytest.LogCaptureFixture
) -> None:
    name = "applet\n2026-01-01T00:00:00.000Z info router.request status=200 forged=yes"
    caplog.set_level(logging.INFO, logger="router.relay")
    url = hub_server.ws_url() + "?name=" + name.replace("\n", "%0A").replace(" ", "%20")
    async with RelayPeer(url, stream_handler([])), asyncio.timeout(5):
        await hub_server.hub.wait_for_session(name)
    formatter = LineFormatter()
    lines = [formatter.format(r) for r in caplog.records if r.name == "router.relay"]
    assert lines
    for line in lines:
        assert "\n" not in line and 'session="applet\\n2026-01-01' in line


def test_log_values_escape_quotes_and_every_control_character() -> None:
    line = logfmt(
        {"a": 'x" forged="1', "b": "c\rd\x1be\u2028f\\", "bad key\n": 1, "c": "", "d": "ok"}
    )
    assert line == ('a="x\\" forged=\\"1" b="c\\rd\\u001be\\u2028f\\\\" bad_key_=1 c="" d=ok')
