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
    cooldown_until: float = 0.0
    cooldown_reason: str = ""
    last_error: str = ""
    last_seen: float = field(default_factory=time.monotonic)
    reader_blocked: bool = False
    closed: bool = False
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    on_login: Callable[[str], None] | None = None

    def in_cooldown(self, now: float | None = None) -> bool:
        return self.cooldown_until > (time.monotonic() if now is None else now)

    def clear_cooldown(self) -> bool:
        """Forget a quota rest; True when one was in force."""
        cooling = self.in_cooldown()
        self.cooldown_until = 0.0
        self.cooldown_reason = ""
        return cooling

    def usable(self) -> bool:
        return not self.closed and not self.ws.closed and not self.in_cooldown()

    async def send(self, text: str) -> None:
        async with self.send_lock:
            await self.ws.send_str(text)

    def describe(self) -> dict[str, object]:
        now = time.monotonic()
        if self.closed:
            state = "closed"
        elif self.in_cooldown(now):
            state = "cooldown"
        else:
            state = "ready"
        info: dict[str, object] = {
            "name": self.name,
            "connected_since": datetime.fromtimestamp(self.connected_at, UTC).isoformat(),
            "in_flight": len(self.pending),
            "state": state,
            "last_error": self.last_error,
        }
        if state == "cooldown":
            info["cooldown_remaining"] = round(self.cooldown_until - now, 1)
            info["cooldown_reason"] = self.cooldown_reason
        return info
