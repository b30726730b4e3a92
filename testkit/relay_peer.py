"""A relay peer speaking the wire protocol from a plain `websockets` client.

It stands in for the AI Studio Build applet: it answers `http_request` frames with a
scripted handler and records what the hub sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import websockets

Send = Callable[[str, str, dict[str, Any] | None], Awaitable[None]]
Handler = Callable[[str, dict[str, Any], Send], Awaitable[None]]


class RelayPeer:
    def __init__(self, url: str, handler: Handler) -> None:
        self.url = url
        self.handler = handler
        self.requests: list[dict[str, Any]] = []
        self.cancelled: list[str] = []
        self.cancel_seen = asyncio.Event()
        self.request_seen = asyncio.Event()
        self.frames: list[dict[str, Any]] = []
        self.frame_seen = asyncio.Event()
        self._ws: websockets.ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> RelayPeer:
        self._ws = await websockets.connect(self.url, max_size=None)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    async def disconnect(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def wait_for_frame(self, frame_type: str) -> dict[str, Any]:
        """The first frame of this type the hub sent (waits for it; callers bound the wait)."""
        while True:
            for frame in self.frames:
                if frame["type"] == frame_type:
                    return frame
            self.frame_seen.clear()
            await self.frame_seen.wait()

    async def send(self, frame_id: str, frame_type: str, payload: dict[str, Any] | None) -> None:
        assert self._ws is not None
        await self._ws.send(json.dumps({"id": frame_id, "type": frame_type, "payload": payload}))

    async def send_raw(self, text: str) -> None:
        """One frame exactly as given, malformed or not."""
        assert self._ws is not None
        await self._ws.send(text)

    async def _read(self) -> None:
        assert self._ws is not None
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self._ws:
                frame = json.loads(raw)
                self.frames.append(frame)
                self.frame_seen.set()
                if frame["type"] == "http_request":
                    self.requests.append(frame)
                    self.request_seen.set()
                    task = asyncio.create_task(
                        self.handler(frame["id"], frame["payload"], self.send)
                    )
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                elif frame["type"] == "cancel":
                    self.cancelled.append(frame["id"])
                    self.cancel_seen.set()


def stream_handler(chunks: list[str]) -> Handler:
    async def handler(frame_id: str, payload: dict[str, Any], send: Send) -> None:
        await send(frame_id, "stream_start", {"status": 200, "headers": {"X-Peer": ["yes"]}})
        for chunk in chunks:
            await send(frame_id, "stream_chunk", {"data": chunk})
        await send(frame_id, "stream_end", {})

    return handler


def never_answer() -> Handler:
    async def handler(frame_id: str, payload: dict[str, Any], send: Send) -> None:
        await asyncio.Event().wait()

    return handler
