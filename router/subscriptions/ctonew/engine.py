"""EngineLabs, the chat backend of cto.new: one chat per request, answered over a WebSocket.

The answer never comes in the POST: it streams over the chat history's socket, which must
be open before the prompt is posted or the first tokens are lost. Socket frames are JSON
text: ``history`` (snapshot on connect), ``state`` ``{inProgress, cancelled, taskId}`` and
``update`` ``{buffer}`` whose value is itself JSON text, one object a line:
``{type: "chat", chat: {content}}`` is answer text, ``type: "thinking"`` reasoning (its
content under ``thinking`` or, as bridges read it, ``chat``), and ``role: "user"`` the
prompt echoed back (ignored). Contents are deltas. The reply is
complete when a state says ``inProgress: false`` once the task has started (after an
update or an ``inProgress: true`` state), which skips the idle state sent on connect.
The socket is kept alive with a text ``ping`` every ``ping_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal

import aiohttp

from router.config.wire import ctonew as constants
from router.upstreams.base import UpstreamStreamError

TEXT: Final = "text"
REASONING: Final = "reasoning"


@dataclass(frozen=True)
class Piece:
    """A piece of the answer as it arrived: answer text or reasoning."""

    kind: Literal["text", "reasoning"]
    text: str


class EngineError(Exception):
    """EngineLabs refused the chat; ``message`` is safe to show (no secret in it)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ChatLost(UpstreamStreamError):
    """The socket ended before the answer was complete (the message says how)."""


@dataclass(frozen=True)
class EngineEndpoints:
    """Where EngineLabs lives and who cto.new says it is (all from config)."""

    api_base: str
    ws_base: str
    origin: str
    ping_interval: float = constants.PING_INTERVAL


_END = object()


class Chat:
    """One prompt and its answer: the socket, the POST, then pieces until the end.

    ``next_piece`` returns None at the end and raises ChatLost when the socket died (or
    the task was cancelled) first.
    ``close`` closes the socket and stops everything this chat started; it is safe at any
    time and more than once. Tasks are registered in ``tasks`` (the owner's set) so an
    owner closing down can wait for them.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        endpoints: EngineEndpoints,
        tasks: set[asyncio.Task[Any]],
    ) -> None:
        self._session = session
        self._endpoints = endpoints
        self._tasks = tasks
        self.chat_history_id = str(uuid.uuid4())
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self, jwt: str, user_id: str, prompt: str, adapter: str) -> None:
        """Open the socket, then post the prompt. Raises EngineError when the POST is refused
        (the chat is closed then) and aiohttp/OS errors when EngineLabs cannot be reached."""
        try:
            await self._connect(user_id)
            await self._post(jwt, prompt, adapter)
        except BaseException:
            self.close()
            raise

    async def _connect(self, user_id: str) -> None:
        path = constants.STREAM_PATH.format(chat_history_id=self.chat_history_id)
        url = f"{self._endpoints.ws_base.rstrip('/')}{path}"
        self._ws = await self._session.ws_connect(
            url,
            params={"token": user_id},
            headers={"Origin": self._endpoints.origin},
            autoping=True,
            timeout=aiohttp.ClientWSTimeout(ws_close=constants.WS_CLOSE_TIMEOUT),
        )
        self._reader = self._spawn(self._read(self._ws))
        self._pinger = self._spawn(self._ping(self._ws))

    async def _post(self, jwt: str, prompt: str, adapter: str) -> None:
        url = f"{self._endpoints.api_base.rstrip('/')}{constants.CHAT_PATH}"
        body = {"prompt": prompt, "chatHistoryId": self.chat_history_id, "adapterName": adapter}
        headers = {
            "Authorization": f"Bearer {jwt}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Origin": self._endpoints.origin,
            "Referer": self._endpoints.origin.rstrip("/") + "/",
        }
        data = json.dumps(body, ensure_ascii=False).encode()
        async with self._session.post(url, data=data, headers=headers) as reply:
            if reply.status >= 300:
                text = await reply.text(errors="replace")
                raise EngineError(
                    reply.status,
                    f"cto.new refused the chat with status {reply.status}{_detail(text)}",
                )
            await reply.read()

    def _spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        started = False
        try:
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    continue
                frame = _json(message.data)
                if not isinstance(frame, dict):
                    continue
                kind = frame.get("type")
                if kind == "update":
                    for piece, assistant in _pieces(frame.get("buffer")):
                        started = started or assistant
                        if piece is not None:
                            self._queue.put_nowait(piece)
                elif kind == "state":
                    state = frame.get("state")
                    if not isinstance(state, dict):
                        continue
                    if state.get("inProgress"):
                        started = True
                    elif started:
                        if state.get("cancelled"):
                            self._queue.put_nowait(ChatLost("cto.new cancelled the task"))
                        else:
                            self._queue.put_nowait(_END)
                        return
            self._queue.put_nowait(ChatLost("cto.new closed the chat socket mid-answer"))
        except (aiohttp.ClientError, OSError) as exc:
            self._queue.put_nowait(ChatLost(f"cto.new chat socket failed: {type(exc).__name__}"))
        finally:
            if self._pinger is not None:
                self._pinger.cancel()
            with contextlib.suppress(Exception):
                await asyncio.shield(ws.close())

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        with contextlib.suppress(aiohttp.ClientError, OSError):
            while not ws.closed:
                await asyncio.sleep(self._endpoints.ping_interval)
                await ws.send_str(constants.PING_TEXT)

    async def next_piece(self) -> Piece | None:
        """The next piece of the answer as it arrives; None once it is complete."""
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)
            return None
        if isinstance(item, Exception):
            self._queue.put_nowait(item)
            raise item
        return item

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pinger is not None:
            self._pinger.cancel()
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
        elif self._ws is not None and not self._ws.closed:
            self._spawn(self._ws.close())
        self._queue.put_nowait(ChatLost("the chat was closed before its answer was complete"))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _pieces(buffer: Any) -> Iterator[tuple[Piece | None, bool]]:
    """(piece or None, whether it came from the assistant) for each object of a buffer."""
    if not isinstance(buffer, str):
        return
    for line in buffer.splitlines():
        value = _json(line) if line.strip() else None
        if not isinstance(value, dict) or value.get("role") == "user":
            continue
        kind = value.get("type")
        if kind not in ("chat", "thinking"):
            yield None, True
            continue
        holder = value.get(kind) if isinstance(value.get(kind), dict) else value.get("chat")
        content = holder.get("content") if isinstance(holder, dict) else None
        if isinstance(content, str) and content:
            yield Piece(TEXT if kind == "chat" else REASONING, content), True
        else:
            yield None, True


def _detail(text: str) -> str:
    """``": <message>"`` from an EngineLabs error body, short, else ``""``."""
    value = _json(text)
    message = None
    if isinstance(value, dict):
        message = value.get("message") or value.get("error")
    if not isinstance(message, str) or not message:
        return ""
    return ": " + message[:200]
