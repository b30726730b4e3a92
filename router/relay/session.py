"""One connected relay peer and the requests it is serving."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from router.relay.frames import FrameBuffer


@dataclass(eq=False)
class PendingRequest:
    """A relayed request from dispatch until its terminal frame (or cancellation)."""

    request_id: str
    method: str
    url: str
    headers: dict[str, list[str]]
    body: str
    pinned: str | None
    buffer: FrameBuffer
    session: RelaySession | None = None
    attempts: int = 0
    body_delivered: bool = False
    finished: bool = False
    status: int = 0
    streaming: bool = False

    @property
    def movable(self) -> bool:
        """Safe to re-send: nothing of the body has reached the consumer yet."""
        return not self.finished and not self.body_delivered


@dataclass(eq=False)
class RelaySession:
    name: str
    ws: web.WebSocketResponse
    connected_at: float = field(default_factory=time.time)
    pending: dict[str, PendingRequest] = field(default_factory=dict)
    last_error: str = ""
    last_seen: float = field(default_factory=time.monotonic)
    reader_blocked: bool = False
    closed: bool = False
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    on_login: Callable[[str], None] | None = None

    def usable(self) -> bool:
        return not self.closed and not self.ws.closed

    async def send(self, text: str) -> None:
        async with self.send_lock:
            await self.ws.send_str(text)

    def describe(self) -> dict[str, object]:
        """What health shows; a session resting after a quota answer is in the router's
        cooldowns (provider aistudio, the session as credential), not here."""
        state = "closed" if self.closed else "ready"
        info: dict[str, object] = {
            "name": self.name,
            "connected_since": datetime.fromtimestamp(self.connected_at, UTC).isoformat(),
            "in_flight": len(self.pending),
            "state": state,
            "last_error": self.last_error,
        }
        return info
