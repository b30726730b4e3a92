"""Connects out to the router's /v1/ws relay and serves its http_request frames."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
from yarl import URL

from providers.aistudio import constants
from providers.aistudio.gemini_client import RelayedRequest
from router.logs import log_fields

log = logging.getLogger("aistudio.relay")

# cliproxy extension of the relay protocol: tells the router the session signed in afresh.
SESSION_LOGIN = "session_login"


class FrameSender:
    """Sends the reply frames of one request over the connection it arrived on."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, lock: asyncio.Lock, request_id: str):
        self._ws = ws
        self._lock = lock
        self.request_id = request_id

    async def send(self, frame_type: str, payload: dict[str, Any]) -> None:
        if self._ws.closed:
            raise ConnectionError("relay connection closed")
        frame = json.dumps({"id": self.request_id, "type": frame_type, "payload": payload})
        async with self._lock:
            await self._ws.send_str(frame)


RequestHandler = Callable[[RelayedRequest, FrameSender], Coroutine[Any, Any, None]]


def relay_connect_url(relay_url: str, key: str, name: str) -> URL:
    url = URL(relay_url)
    extra = {"name": name}
    if key:
        extra["auth_token"] = key
    return url.update_query(extra)


class RelayClient:
    """Keeps one relay connection up, reconnecting with exponential backoff and jitter."""

    def __init__(
        self,
        relay_url: str,
        key: str,
        name: str,
        handler: RequestHandler,
        *,
        heartbeat: float = 30.0,
    ) -> None:
        self._url = relay_connect_url(relay_url, key, name)
        self._log_url = str(URL(relay_url).with_query(None))
        self._handler = handler
        self._heartbeat = heartbeat
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._send_lock: asyncio.Lock | None = None
        self.connected = asyncio.Event()
        self.connected_since: float | None = None
        self.connections = 0
        self.last_error = ""

    def start(self) -> None:
        self._runner = asyncio.create_task(self._run())

    async def _run(self) -> None:
        attempt = 0
        async with aiohttp.ClientSession() as http:
            while True:
                started = time.monotonic()
                try:
                    async with http.ws_connect(
                        self._url, heartbeat=self._heartbeat, max_msg_size=0
                    ) as ws:
                        await self._serve(ws)
                    self.last_error = "relay closed the connection"
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    self.last_error = f"relay connect failed: {type(exc).__name__}"
                if time.monotonic() - started > constants.RELAY_BACKOFF_CAP_SECONDS:
                    attempt = 0
                delay = min(
                    constants.RELAY_BACKOFF_CAP_SECONDS,
                    constants.RELAY_BACKOFF_BASE_SECONDS * 2**attempt,
                )
                attempt += 1
                delay *= random.uniform(0.5, 1.0)
                log_fields(
                    log,
                    logging.INFO,
                    event="relay_reconnect_wait",
                    seconds=round(delay, 2),
                    reason=self.last_error,
                )
                await asyncio.sleep(delay)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        lock = asyncio.Lock()
        self._ws, self._send_lock = ws, lock
        self.connections += 1
        self.connected_since = time.time()
        self.connected.set()
        log_fields(log, logging.INFO, event="relay_connected", url=self._log_url)
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                await self._on_frame(ws, lock, msg.data)
        finally:
            self.connected.clear()
            self.connected_since = None
            self._ws = self._send_lock = None
            for task in list(self._tasks.values()):
                task.cancel()
            log_fields(log, logging.INFO, event="relay_disconnected", in_flight=len(self._tasks))

    async def _on_frame(
        self, ws: aiohttp.ClientWebSocketResponse, lock: asyncio.Lock, text: str
    ) -> None:
        try:
            frame = json.loads(text)
            frame_id, frame_type = frame["id"], frame["type"]
            payload = frame.get("payload") or {}
        except (ValueError, KeyError, TypeError):
            log_fields(log, logging.WARNING, event="relay_bad_frame")
            return
        sender = FrameSender(ws, lock, frame_id)
        if frame_type == "http_request":
            request = RelayedRequest(
                request_id=frame_id,
                method=str(payload.get("method") or "POST"),
                url=str(payload.get("url") or ""),
                headers={k: list(v) for k, v in (payload.get("headers") or {}).items()},
                body=str(payload.get("body") or ""),
            )
            task = asyncio.create_task(self._handler(request, sender))
            self._tasks[frame_id] = task
            task.add_done_callback(functools.partial(self._forget_task, frame_id))
        elif frame_type == "cancel":
            running = self._tasks.get(frame_id)
            if running is not None:
                log_fields(log, logging.INFO, event="relay_cancel_received")
                running.cancel()
        elif frame_type == "ping":
            with contextlib.suppress(ConnectionError):
                await sender.send("pong", {})

    def _forget_task(self, request_id: str, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(request_id, None)

    async def announce(self, frame_type: str, payload: dict[str, Any]) -> bool:
        """Send a frame of the service's own (not a reply); False when not connected."""
        ws, lock = self._ws, self._send_lock
        if ws is None or lock is None:
            return False
        try:
            await FrameSender(ws, lock, uuid.uuid4().hex).send(frame_type, payload)
        except (ConnectionError, RuntimeError):
            return False
        log_fields(log, logging.INFO, event="relay_announced", type=frame_type)
        return True

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drop_connection(self) -> None:
        """Close the current connection (the client reconnects); used by operators and tests."""
        if self._ws is not None:
            await self._ws.close()

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=5)
