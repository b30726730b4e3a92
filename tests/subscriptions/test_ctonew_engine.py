"""EngineLabs chat against the fakes: socket before POST, frames to pieces, end, loss, ping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from router.config.wire import ctonew as constants
from router.subscriptions.ctonew.clerk import ClerkClient, SessionToken
from router.subscriptions.ctonew.engine import (
    REASONING,
    TEXT,
    Chat,
    ChatLost,
    EngineEndpoints,
    EngineError,
    Piece,
)
from tests.fakes.clerk import ClerkFake
from tests.fakes.enginelabs import Answer, EngineLabsFake


@dataclass
class World:
    clerk: ClerkFake
    engine: EngineLabsFake
    http: aiohttp.ClientSession
    token: SessionToken
    tasks: set[asyncio.Task[Any]]

    def chat(self, ping_interval: float = constants.PING_INTERVAL, origin: str = constants.ORIGIN):
        endpoints = EngineEndpoints(
            api_base=self.engine.base_url,
            ws_base=self.engine.ws_base,
            origin=origin,
            ping_interval=ping_interval,
        )
        return Chat(self.http, endpoints, self.tasks)

    async def start(self, chat: Chat, prompt: str = "user:\nhi", adapter: str = "GPT5") -> Chat:
        await chat.start(self.token.jwt, self.token.user_id, prompt, adapter)
        return chat


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with (
        ClerkFake() as clerk,
        EngineLabsFake(clerk) as engine,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
    ):
        account = clerk.add_account(user_id="user_eng", session_id="sess_eng")
        client = ClerkClient(
            http,
            clerk_url=clerk.base_url,
            api_version=constants.CLERK_API_VERSION,
            origin=constants.ORIGIN,
        )
        token = (await client.exchange(account.cookie, "sess_eng")).token
        tasks: set[asyncio.Task[Any]] = set()
        yield World(clerk, engine, http, token, tasks)
        for task in list(tasks):
            task.cancel()


async def read_all(chat: Chat) -> list[Piece]:
    pieces = []
    async with asyncio.timeout(5):
        while (piece := await chat.next_piece()) is not None:
            pieces.append(piece)
    return pieces


async def test_answer_arrives_over_the_socket_opened_before_the_post(world: World) -> None:
    world.engine.answers.append(Answer(text="The answer is 42.", chunks=4))
    chat = await world.start(world.chat(), prompt="user:\nWhat is the answer?")
    pieces = await read_all(chat)
    assert [p.kind for p in pieces] == [TEXT] * 4
    assert "".join(p.text for p in pieces) == "The answer is 42."
    record = world.engine.chats[0]
    assert record.delivered and world.engine.lost_answers == 0
    assert record.prompt == "user:\nWhat is the answer?"
    assert record.adapter == "GPT5"
    assert record.chat_history_id == chat.chat_history_id
    socket = world.engine.sockets[0]
    assert socket.token == "user_eng"
    post = next(r for r in world.engine.requests if r.method == "POST")
    assert post.headers["Authorization"] == f"Bearer {world.token.jwt}"
    assert post.headers["Origin"] == constants.ORIGIN
    assert post.headers["Referer"] == constants.ORIGIN + "/"
    assert post.json == {
        "prompt": "user:\nWhat is the answer?",
        "chatHistoryId": chat.chat_history_id,
        "adapterName": "GPT5",
    }
    await world.engine.wait_sockets_closed()


async def test_thinking_comes_as_reasoning_before_the_text(world: World) -> None:
    world.engine.answers.append(Answer(text="Yes.", thinking="Let me think it over", chunks=2))
    pieces = await read_all(await world.start(world.chat()))
    assert [p.kind for p in pieces] == [REASONING, REASONING, TEXT, TEXT]
    assert "".join(p.text for p in pieces if p.kind == REASONING) == "Let me think it over"
    assert "".join(p.text for p in pieces if p.kind == TEXT) == "Yes."


async def test_echoed_prompt_and_idle_state_are_not_part_of_the_answer(world: World) -> None:
    world.engine.answers.append(Answer(text="short", interval=0.05))
    chat = await world.start(world.chat(), prompt="user:\nECHO-ME")
    pieces = await read_all(chat)
    assert pieces == [Piece(TEXT, "short")]
    assert await chat.next_piece() is None, "the end is sticky"


async def test_socket_dropped_mid_answer_is_a_lost_chat(world: World) -> None:
    world.engine.answers.append(Answer(text="one two three four", drop_after=2))
    chat = await world.start(world.chat())
    received = [await chat.next_piece(), await chat.next_piece()]
    assert "".join(p.text for p in received if p) == "one two "
    with pytest.raises(ChatLost) as caught:
        await chat.next_piece()
    assert isinstance(caught.value, ConnectionError)
    with pytest.raises(ChatLost):
        await chat.next_piece()
    assert world.engine.chats[0].dropped


async def test_ping_keeps_the_socket_alive_and_close_ends_everything(world: World) -> None:
    world.engine.answers.append(Answer(text="slow", hang=True))
    chat = await world.start(world.chat(ping_interval=0.05))
    assert await chat.next_piece() == Piece(TEXT, "slow")
    socket = world.engine.sockets[0]
    async with asyncio.timeout(5):
        while socket.pings < 2:
            await asyncio.sleep(0.02)
    assert world.tasks, "the reader and the pinger run while the chat is open"
    chat.close()
    chat.close()
    await world.engine.wait_sockets_closed()
    async with asyncio.timeout(5):
        while world.tasks:
            await asyncio.sleep(0.01)
    assert world.engine.open_sockets == 0
    with pytest.raises(ChatLost):
        await chat.next_piece()


async def test_close_while_waiting_wakes_the_reader_of_the_chat(world: World) -> None:
    world.engine.answers.append(Answer(hang=True, text=""))
    chat = await world.start(world.chat())
    waiting = asyncio.ensure_future(chat.next_piece())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    chat.close()
    with pytest.raises(ChatLost):
        await waiting
    await world.engine.wait_sockets_closed()


async def test_refused_post_closes_the_socket(world: World) -> None:
    with pytest.raises(EngineError) as caught:
        await world.start(world.chat(), adapter="NoSuchAdapter")
    assert caught.value.status == 400
    assert "unknown adapter" in caught.value.message
    await world.engine.wait_sockets_closed()
    assert world.engine.chats == []


async def test_expired_or_forged_jwt_is_refused(world: World) -> None:
    chat = world.chat()
    with pytest.raises(EngineError) as caught:
        await chat.start(world.token.jwt[:-4] + "AAAA", world.token.user_id, "hi", "GPT5")
    assert caught.value.status == 401
    await world.engine.wait_sockets_closed()


async def test_wrong_origin_cannot_open_the_socket(world: World) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await world.start(world.chat(origin="https://elsewhere.example"))
    assert world.engine.chats == []
