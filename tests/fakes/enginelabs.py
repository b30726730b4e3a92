"""Fake EngineLabs (cto.new's chat backend): chat POST plus the chat history WebSocket.

Strict like the real one: the POST needs ``Origin`` and a Bearer JWT issued by the Clerk
fake (signature and ``exp`` checked), a known ``adapterName``, a uuid ``chatHistoryId``
and a body under ``max_body`` bytes. The answer never comes in the POST: it streams only
over a socket already open for that ``chatHistoryId`` with ``token`` = the JWT's ``sub``;
with no such socket the answer is lost (counted in ``lost_answers``). Frames come in the
real order: ``history`` and an idle ``state`` on connect; after the POST the echoed user
prompt, ``state`` inProgress, thinking and chat updates, ``state`` done, then a ``label``.
A text ``ping`` is answered ``pong``. ``Answer(drop_after=n)`` aborts the socket after n
assistant updates; ``Answer(hang=True)`` never finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from router.config.wire import ctonew as constants
from tests.fakes.base import FakeServer, Handler, RecordedRequest, split_text
from tests.fakes.clerk import ClerkFake

ADAPTERS = ("ClaudeSonnet4_5", "GPT5")


@dataclass
class Answer:
    """What the fake answers to the next chat."""

    text: str = "Hello from cto.new."
    thinking: str | None = None
    chunks: int | None = None
    interval: float = 0.0
    drop_after: int | None = None
    hang: bool = False


@dataclass
class ChatRecord:
    """One accepted chat POST and what became of its answer."""

    chat_history_id: str
    prompt: str
    adapter: str
    user_id: str
    answer: Answer
    delivered: bool = False
    dropped: bool = False


@dataclass
class Socket:
    chat_history_id: str
    token: str
    ws: web.WebSocketResponse
    request: web.Request
    pings: int = 0
    closed: asyncio.Event = field(default_factory=asyncio.Event)


def _frame(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields})


def _update(value: dict[str, Any]) -> str:
    return _frame("update", buffer=json.dumps(value) + "\n")


def _state(in_progress: bool, task_id: str | None) -> str:
    state = {"inProgress": in_progress, "cancelled": False, "taskId": task_id}
    return _frame("state", state=state)


class EngineLabsFake(FakeServer):
    default_keys = ()

    def __init__(
        self,
        clerk: ClerkFake,
        *,
        origin: str = constants.ORIGIN,
        adapters: tuple[str, ...] = ADAPTERS,
        max_body: int = 32 * 1024,
    ) -> None:
        super().__init__()
        self.clerk = clerk
        self.origin = origin
        self.adapters = adapters
        self.max_body = max_body
        self.answers: deque[Answer] = deque()
        self.chats: list[ChatRecord] = []
        self.sockets: list[Socket] = []
        self.lost_answers = 0
        self._answering: set[asyncio.Task[None]] = set()

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def open_sockets(self) -> int:
        return sum(1 for s in self.sockets if not s.closed.is_set())

    async def wait_sockets_closed(self, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            for socket in list(self.sockets):
                await socket.closed.wait()

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        stream = constants.STREAM_PATH.replace("{chat_history_id}", "{chat_id}")
        return [("POST", constants.CHAT_PATH, self._chat), ("GET", stream, self._stream)]

    async def close(self) -> None:
        for task in list(self._answering):
            task.cancel()
        await super().close()

    async def _chat(self, request: web.Request, record: RecordedRequest) -> web.Response:
        if request.headers.get("Origin") != self.origin:
            return web.json_response({"message": "Forbidden origin"}, status=403)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        claims = self.clerk.verify_jwt(token) if scheme == "Bearer" else None
        if claims is None:
            return web.json_response({"message": "Unauthorized"}, status=401)
        if len(record.body) > self.max_body:
            return web.json_response({"message": "request entity too large"}, status=413)
        body = record.json if isinstance(record.json, dict) else {}
        prompt = body.get("prompt")
        adapter = body.get("adapterName")
        chat_id = body.get("chatHistoryId")
        if not isinstance(prompt, str) or not prompt:
            return web.json_response({"message": "prompt is required"}, status=400)
        if adapter not in self.adapters:
            return web.json_response({"message": f"unknown adapter {adapter}"}, status=400)
        try:
            uuid.UUID(str(chat_id))
        except ValueError:
            return web.json_response({"message": "chatHistoryId must be a uuid"}, status=400)
        answer = self.answers.popleft() if self.answers else Answer()
        chat = ChatRecord(str(chat_id), prompt, str(adapter), claims["sub"], answer)
        self.chats.append(chat)
        sockets = [
            s
            for s in self.sockets
            if s.chat_history_id == chat.chat_history_id
            and s.token == chat.user_id
            and not s.closed.is_set()
        ]
        if not sockets:
            self.lost_answers += 1
        else:
            task = asyncio.get_running_loop().create_task(self._answer(chat, sockets[0]))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        return web.json_response({"success": True, "chatHistoryId": chat.chat_history_id})

    async def _stream(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        if request.headers.get("Origin") != self.origin:
            return web.json_response({"message": "Forbidden origin"}, status=403)
        token = request.query.get("token")
        if not token:
            return web.json_response({"message": "token is required"}, status=401)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        socket = Socket(request.match_info["chat_id"], token, ws, request)
        self.sockets.append(socket)
        try:
            await ws.send_str(_frame("history", history={"messages": []}))
            await ws.send_str(_state(False, None))
            async for message in ws:
                if message.type is WSMsgType.TEXT and message.data == constants.PING_TEXT:
                    socket.pings += 1
                    await ws.send_str(constants.PONG_TEXT)
        finally:
            socket.closed.set()
        return ws

    async def _answer(self, chat: ChatRecord, socket: Socket) -> None:
        answer = chat.answer
        ws = socket.ws
        task_id = f"task_{uuid.uuid4().hex[:8]}"
        message_id = f"msg_{uuid.uuid4().hex[:10]}"
        echo = {
            "id": str(uuid.uuid4()),
            "role": "user",
            "content": [{"type": "text", "text": chat.prompt}],
        }
        frames = [_update(echo), _state(True, task_id)]
        updates = [
            {"id": message_id, "type": "thinking", "chat": {"content": piece}}
            for piece in split_text(answer.thinking or "", answer.chunks)
        ]
        updates += [
            {"id": message_id, "type": "chat", "chat": {"content": piece}}
            for piece in split_text(answer.text, answer.chunks)
        ]
        with contextlib.suppress(ConnectionError, RuntimeError):
            for frame in frames:
                await ws.send_str(frame)
            for sent, update in enumerate(updates):
                if answer.drop_after is not None and sent >= answer.drop_after:
                    chat.dropped = True
                    transport = socket.request.transport
                    if transport is not None:
                        transport.abort()
                    return
                if answer.interval:
                    await asyncio.sleep(answer.interval)
                await ws.send_str(_update(update))
            if answer.hang:
                await asyncio.Event().wait()
            await ws.send_str(_state(False, task_id))
            await ws.send_str(_frame("label", label=chat.prompt[:40]))
            chat.delivered = True
