"""Router side of the AI Studio WebSocket relay: accepts peers on /v1/ws, relays requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable

from aiohttp import WSMsgType, web

from router.logs import log_fields
from router.relay import protocol
from router.relay.errors import RelayError, RelayUnavailable
from router.relay.frames import FrameBuffer
from router.relay.reply import RelayReply, error_from_payload, open_reply
from router.relay.session import PendingRequest, RelaySession

log = logging.getLogger("router.relay")

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_ATTEMPTS = 3


class RelayHub:
    """Keeps the connected relay sessions and routes requests to them.

    Frames are never dropped: each request has a bounded buffer and a full buffer stops
    the reader of that websocket until the consumer catches up.
    """

    def __init__(
        self, *, ping_interval: float = 30.0, peer_timeout: float = 60.0, frame_queue: int = 64
    ) -> None:
        self._ping_interval = ping_interval
        self._peer_timeout = peer_timeout
        self._frame_queue = frame_queue
        self._sessions: dict[str, RelaySession] = {}
        self._next_index = 0
        self._closing = False
        self._session_added = asyncio.Event()
        self._closers: set[asyncio.Task[bool]] = set()
        # Called when a session joins or leaves (a worker publishes its sessions at once).
        self.on_change: Callable[[], None] | None = None

    # ---- peers -------------------------------------------------------------------------

    async def handle_ws(
        self, request: web.Request, on_login: Callable[[str], None] | None = None
    ) -> web.WebSocketResponse:
        """Serve one relay peer until it leaves.

        ``on_login(name)`` runs when the peer reports a fresh sign-in (``session_login``).
        """
        ws = web.WebSocketResponse(autoping=False, max_msg_size=MAX_MESSAGE_BYTES)
        await ws.prepare(request)
        if self._closing:
            await ws.close(code=1001, message=b"relay shutting down")
            return ws
        name = request.query.get("name") or request.remote or "relay-peer"
        session = RelaySession(name=name, ws=ws, on_login=on_login)
        previous = self._sessions.get(name)
        self._sessions[name] = session
        self._session_added.set()
        log_fields(log, logging.INFO, event="relay_connected", session=name)
        self._changed()
        if previous is not None:
            await self._retire(previous, "replaced by a new connection with the same name")
        keepalive = asyncio.create_task(self._keepalive(session))
        reason = "peer disconnected"
        try:
            reason = await self._read_loop(session)
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive
            if self._sessions.get(name) is session:
                del self._sessions[name]
                self._changed()
            if not session.closed:
                await self._retire(session, reason)
            await ws.close()
            log_fields(log, logging.INFO, event="relay_disconnected", session=name, reason=reason)
        return ws

    async def _read_loop(self, session: RelaySession) -> str:
        ws = session.ws
        while True:
            msg = await ws.receive()
            session.last_seen = time.monotonic()
            if msg.type == WSMsgType.TEXT:
                await self._on_text(session, msg.data)
            elif msg.type == WSMsgType.BINARY:
                await self._on_text(session, msg.data.decode("utf-8", "replace"))
            elif msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                continue
            elif msg.type == WSMsgType.ERROR:
                return f"websocket error: {ws.exception() or 'unknown'}"
            else:
                return "peer disconnected"

    async def _on_text(self, session: RelaySession, text: str) -> None:
        try:
            frame_id, frame_type, payload = protocol.decode(text)
        except protocol.ProtocolError as exc:
            await self._bad_frame(session, protocol.leading_id(text), str(exc))
            return
        if frame_type == protocol.PING:
            await session.send(protocol.encode(frame_id, protocol.PONG, {}))
            return
        if frame_type == protocol.SESSION_LOGIN:
            self._on_login(session)
            return
        pending = session.pending.get(frame_id)
        if pending is None:
            if frame_type != protocol.PONG:
                log_fields(
                    log,
                    logging.DEBUG,
                    event="relay_unknown_id",
                    session=session.name,
                    type=frame_type,
                )
            return
        if frame_type == protocol.ERROR:
            session.last_error = str(error_from_payload(payload))
        if frame_type in protocol.TERMINAL_TYPES:
            del session.pending[frame_id]
            pending.finished = True
        generation = pending.buffer.generation
        if len(pending.buffer) >= self._frame_queue:
            session.reader_blocked = True
        try:
            await pending.buffer.put((frame_type, payload), generation)
        finally:
            if session.reader_blocked:
                session.reader_blocked = False
                session.last_seen = time.monotonic()

    async def _bad_frame(self, session: RelaySession, frame_id: str | None, error: str) -> None:
        """A frame that cannot be read fails its own request (when its id is known) only."""
        session.last_error = error
        log_fields(
            log,
            logging.WARNING,
            event="relay_bad_frame",
            session=session.name,
            id=frame_id,
            error=error,
        )
        pending = session.pending.pop(frame_id, None) if frame_id else None
        if pending is None:
            return
        pending.finished = True
        pending.buffer.fail(RelayError(f"relay peer sent a malformed frame: {error}"))
        with contextlib.suppress(ConnectionError, RuntimeError):
            await session.send(protocol.encode(pending.request_id, protocol.CANCEL))

    async def _keepalive(self, session: RelaySession) -> None:
        """WebSocket-level ping every ping_interval; drop a peer silent for peer_timeout."""
        tick = min(self._ping_interval, self._peer_timeout) / 3
        next_ping = time.monotonic() + self._ping_interval
        while not session.ws.closed:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if not session.reader_blocked and now - session.last_seen > self._peer_timeout:
                await self._retire(session, f"peer silent for over {self._peer_timeout:g}s")
                return
            if now >= next_ping:
                next_ping = now + self._ping_interval
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await session.ws.ping()

    async def _retire(self, session: RelaySession, reason: str) -> None:
        """Take a session out of service: move or fail its requests, close its socket."""
        if session.closed:
            return
        session.closed = True
        session.last_error = reason
        if self._sessions.get(session.name) is session:
            del self._sessions[session.name]
        pending = list(session.pending.values())
        session.pending.clear()
        for request in pending:
            await self._move_or_fail(request, session, reason)
        closer = asyncio.create_task(session.ws.close(code=1001, message=reason.encode()[:120]))
        self._closers.add(closer)
        closer.add_done_callback(self._closers.discard)

    async def _move_or_fail(self, request: PendingRequest, gone: RelaySession, reason: str) -> None:
        if request.movable and request.attempts < MAX_ATTEMPTS and not self._closing:
            request.buffer.discard_pending()
            try:
                await self._dispatch(request, exclude=gone)
                log_fields(
                    log,
                    logging.INFO,
                    event="relay_request_moved",
                    id=request.request_id,
                    **{"from": gone.name, "to": request.session.name if request.session else ""},
                )
                return
            except RelayError:
                pass
        request.finished = True
        request.buffer.fail(RelayError(f"relay session '{gone.name}' dropped: {reason}"))

    # ---- requests ----------------------------------------------------------------------

    def _pick(self, pinned: str | None, exclude: RelaySession | None) -> RelaySession:
        """The session named (the router's selector chose it, cooldowns included), else
        the next open one in turn."""
        if pinned is not None:
            session = self._sessions.get(pinned)
            if session is None or session is exclude or session.closed:
                raise RelayUnavailable(f"relay session '{pinned}' is not connected")
            return session
        candidates = [s for s in self._sessions.values() if s is not exclude and s.usable()]
        if not candidates:
            raise RelayUnavailable("no relay session is connected")
        session = candidates[self._next_index % len(candidates)]
        self._next_index = (self._next_index + 1) % len(candidates)
        return session

    async def _dispatch(self, request: PendingRequest, exclude: RelaySession | None) -> None:
        while True:
            session = self._pick(request.pinned, exclude)
            request.session = session
            request.attempts += 1
            session.pending[request.request_id] = request
            frame = protocol.encode(
                request.request_id,
                protocol.HTTP_REQUEST,
                protocol.request_payload(
                    request.method, request.url, request.headers, request.body
                ),
            )
            try:
                await session.send(frame)
                return
            except (ConnectionError, RuntimeError) as exc:
                session.pending.pop(request.request_id, None)
                await self._retire(session, f"send failed: {exc}")
                exclude = session

    async def request(
        self,
        method: str,
        url: str,
        headers: dict[str, list[str]],
        body: str,
        *,
        session: str | None = None,
    ) -> RelayReply:
        """Relay one HTTP request; returns once the peer sent the status and headers.

        Raises RelayUnavailable when no session can take it, RelayError when the peer
        answers with an error frame or the session drops.
        """
        if self._closing:
            raise RelayUnavailable("relay hub is shutting down")
        pending = PendingRequest(
            request_id=uuid.uuid4().hex,
            method=method,
            url=url,
            headers=headers,
            body=body,
            pinned=session,
            buffer=FrameBuffer(self._frame_queue),
        )
        await self._dispatch(pending, exclude=None)
        try:
            frame_type, payload = await pending.buffer.get()
        except BaseException:
            await self._abandon(pending)
            raise
        return await open_reply(pending, frame_type, payload, self._abandon)

    async def _abandon(self, request: PendingRequest) -> None:
        """The consumer is done: cancel at the peer if unfinished, free the buffer."""
        session = request.session
        if not request.finished and session is not None:
            request.finished = True
            session.pending.pop(request.request_id, None)
            if not session.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await session.send(protocol.encode(request.request_id, protocol.CANCEL))
        request.finished = True
        request.buffer.close()

    # ---- management --------------------------------------------------------------------

    def _on_login(self, session: RelaySession) -> None:
        if session.on_login is not None:
            session.on_login(session.name)

    def holds(self, name: str | None) -> bool:
        """This hub has the session ``name`` (any session, for None)."""
        return bool(self._sessions) if name is None else name in self._sessions

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def sessions(self) -> list[dict]:
        return [s.describe() for s in self._sessions.values()]

    async def wait_for_session(self, name: str | None = None) -> None:
        """Wait until a session (by name, or any) is connected; callers bound the wait."""
        while not (self._sessions.get(name) if name else self._sessions):
            self._session_added.clear()
            await self._session_added.wait()

    async def close(self) -> None:
        self._closing = True
        for session in list(self._sessions.values()):
            await self._retire(session, "relay hub shutting down")
        if self._closers:
            await asyncio.wait(list(self._closers), timeout=5)
