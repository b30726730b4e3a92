"""The relay as every worker sees it: its own hub's sessions plus those other workers hold.

A relay peer's WebSocket lands on one worker (the kernel picks). Another worker that
routes a request to that session sends it to the holder over the holder's private socket
(router/api/internal.py), which runs it through its hub and streams the answer back.
Single-process routers use the hub alone.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import aiohttp

from router.relay.errors import RelayError, RelayUnavailable
from router.relay.hub import RelayHub
from router.shared import SharedState
from router.shared.peers import WorkerPeers

# The header names of an internally relayed answer (router/api/internal.py).
STATUS_HEADER = "X-Relay-Status"
HEADERS_HEADER = "X-Relay-Headers"
STREAMING_HEADER = "X-Relay-Streaming"
ERROR_HEADER = "X-Relay-Error"


class RelayAnswer(Protocol):
    """What a relayed request gives back, from this worker's hub or another's."""

    status: int
    headers: dict[str, str]
    streaming: bool

    def __aiter__(self) -> RelayAnswer: ...

    async def __anext__(self) -> bytes: ...

    async def aclose(self) -> None: ...


class RemoteAnswer:
    """An answer streamed from another worker's hub."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = int(response.headers[STATUS_HEADER])
        self.headers: dict[str, str] = json.loads(response.headers[HEADERS_HEADER])
        self.streaming = response.headers.get(STREAMING_HEADER) == "1"

    def __aiter__(self) -> RemoteAnswer:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._response.content.readany()
        except aiohttp.ClientError as exc:
            raise RelayError(f"relay answer from another worker broke: {exc}") from None
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        self._response.close()


class WorkerRelays:
    """Relay sessions of every worker, behind the interface the AI Studio upstream uses."""

    def __init__(self, hub: RelayHub, shared: SharedState, peers: WorkerPeers) -> None:
        self.hub = hub
        self.shared = shared
        self.peers = peers

    def _remote(self, fresh: bool = False) -> dict[str, tuple[int, dict[str, Any]]]:
        """Session name -> (worker, description) for sessions held by other workers."""
        found: dict[str, tuple[int, dict[str, Any]]] = {}
        for worker, document in self.shared.documents(fresh).items():
            if worker == self.peers.role.index:
                continue
            for session in document.get("relay_sessions", ()):
                found.setdefault(session["name"], (worker, session))
        return found

    def sessions(self) -> list[dict[str, Any]]:
        local = self.hub.sessions()
        found = self._remote()
        if not local and not found:
            found = self._remote(fresh=True)  # as in _holder: none, so read past the cache
        names = {s["name"] for s in local}
        remote = [s for name, (_, s) in found.items() if name not in names]
        return local + remote

    def _holder(self, session: str | None) -> int | None:
        """The worker to send to: None for this one (it holds the session, or nobody
        named one and this worker has a session)."""
        if self.hub.holds(session):
            return None
        remote = self._remote()
        if (session is None and not remote) or (session is not None and session not in remote):
            # Read past the cache before answering that no worker holds it: a session
            # that connected a moment ago is published at once, but cached reads lag.
            remote = self._remote(fresh=True)
        if session is None:
            return next((worker for worker, _ in remote.values()), None)
        return remote[session][0] if session in remote else None

    async def request(
        self,
        method: str,
        url: str,
        headers: dict[str, list[str]],
        body: str,
        *,
        session: str | None = None,
    ) -> RelayAnswer:
        worker = self._holder(session)
        if worker is None:
            return await self.hub.request(method, url, headers, body, session=session)
        payload: dict[str, Any] = {"method": method, "url": url, "headers": headers}
        payload |= {"body": body, "session": session}
        try:
            response = await self.peers.client(worker).post(
                "http://worker/internal/relay", json=payload
            )
        except aiohttp.ClientError as exc:
            raise RelayUnavailable(f"worker {worker} holding the relay session: {exc}") from None
        if ERROR_HEADER in response.headers:
            kind, message = response.headers[ERROR_HEADER], (await response.text())[:1000]
            response.close()
            if kind == "unavailable":
                raise RelayUnavailable(message)
            raise RelayError(message, response.status)
        return RemoteAnswer(response)
