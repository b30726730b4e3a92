"""A fake of the Amp server (what ampcode.com answers the Amp CLI), as far as the CLI uses it.

The shapes are the pinned CLI's (@ampcode/cli 0.0.1790142911-g7618fb), learned from its
own bundle (the JavaScript sits, UTF-16, in the binary's ``.bun`` section: the zod
schemas of its internal API and the fields it reads) and from what it sends:

- ``POST /api/internal?<method>`` with ``{"method", "params"}`` answers
  ``{"ok": true, "result": ...}``, errors ``{"ok": false, "error": {"code"}}`` (code
  ``auth-required`` reads as logged out). ``getUserInfo``: the user (the CLI reads
  ``id``, ``email``, ``emailVerified``, ``features`` as ``[{name, enabled}]``, ``team``);
  ``loadPlugins``: a list; ``loadSkills``: ``{"sources": [...]}``.
- ``POST /api/telemetry``: a list of events, answered ``{"ok": true}``.
- ``POST /api/thread-actors``: a new thread (``executorType``, ``agentMode``, ...) or the
  credentials of an existing one (``threadId``); the CLI requires ``threadId``, ``wsToken``,
  ``ownerUserId`` and a numeric ``threadVersion``, and reads ``usesThreadActors``,
  ``usesDtw``, ``executorType``, ``capability`` and ``poolName``.
- ``GET /actors/gateway/threadActor/websocket/?rvt-key=<thread>...``: the WebSocket to the
  thread actor, on which Amp's server runs the agent (its model calls included) and asks
  the CLI to run tools. The CLI authenticates there with the ``wsToken`` inside its
  ``rivet_conn_params.<json>`` subprotocol, not with the Amp key. Its frames are Rivet's
  binary encoding (``rivet_encoding.bare``) of Amp's thread protocol, which this fake does
  not play: for a socket whose token it issued it refuses the CLI's (bare-encoded)
  upgrade with a 501 naming ``ACTOR_NOT_PLAYED`` and accepts any other, echoing its
  frames (for relay tests).

Also ``GET /api/stream?chunks=N&interval=S``: N chunks S seconds apart (to prove the proxy
streams). Every request, the WebSocket handshakes included, is recorded.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from tests.fakes.base import FakeServer, Handler, RecordedRequest, json_response

ACTOR_GATEWAY = "/actors/gateway/threadActor/websocket/"
ACTOR_NOT_PLAYED = "this fake does not play Amp's thread actor protocol"
CONN_PARAMS = "rivet_conn_params."
BARE_ENCODING = "rivet_encoding.bare"
USER_ID = "user_cliproxy_test"


def user_info() -> dict[str, Any]:
    return {
        "id": USER_ID,
        "email": "ada@example.com",
        "emailVerified": True,
        "features": [],
        "team": None,
    }


INTERNAL_RESULTS: dict[str, Callable[[], Any]] = {
    "getUserInfo": user_info,
    "loadPlugins": list,
    "loadSkills": lambda: {"sources": []},
}


def conn_params(protocols: str) -> dict[str, Any]:
    """The JSON a Rivet client sends in its ``rivet_conn_params.<urlencoded>`` subprotocol."""
    for protocol in (p.strip() for p in protocols.split(",")):
        if protocol.startswith(CONN_PARAMS):
            params = json.loads(unquote(protocol[len(CONN_PARAMS) :]))
            return params if isinstance(params, dict) else {}
    return {}


class AmpFake(FakeServer):
    default_keys = ("sgamp_user_test",)

    def __init__(self, keys: Sequence[str] | None = None, *, record: bool = True) -> None:
        super().__init__(keys, record=record)
        # thread id -> the wsToken issued for it
        self.threads: dict[str, str] = {}
        self.sockets: list[dict[str, Any]] = []

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [("*", "/{tail:.*}", self.handle)]

    async def handle(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        if request.path == ACTOR_GATEWAY:
            return await self.actor_socket(request)
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return json_response({"ok": False, "error": {"code": "auth-required"}}, 401)
        if request.path == "/api/stream":
            return await self.stream(request)
        answer = self.answer(record)
        if answer is None:
            return json_response({"ok": False, "error": {"code": "not-found"}}, 404)
        return answer

    def answer(self, record: RecordedRequest) -> web.Response | None:
        """The answer to one of the CLI's backend calls, or None for any other request
        (also used by the capture server, tests/clients/capture.py, without a key check)."""
        if record.method != "POST":
            return None
        if record.path == "/api/internal":
            return self.internal(next(iter(record.query), ""))
        if record.path == "/api/telemetry":
            return json_response({"ok": True})
        if record.path == "/api/thread-actors":
            return self.thread_credentials(record.json if isinstance(record.json, dict) else {})
        return None

    def internal(self, method: str) -> web.Response:
        result = INTERNAL_RESULTS.get(method)
        if result is None:
            return json_response({"ok": False, "error": {"code": "unknown-method"}}, 400)
        return web.Response(
            body=json.dumps({"ok": True, "result": result()}).encode(),
            content_type="application/json",
            headers={"Set-Cookie": "amp_session=abc; Path=/; HttpOnly"},
        )

    def thread_credentials(self, body: dict[str, Any]) -> web.Response:
        thread_id = body.get("threadId") or f"T-{uuid.uuid4()}"
        if thread_id not in self.threads and "threadId" in body:
            return json_response({"error": "thread not found", "code": "NOT_FOUND"}, 404)
        token = self.threads.setdefault(thread_id, f"wst-{uuid.uuid4().hex}")
        return json_response(
            {
                "threadId": thread_id,
                "wsToken": token,
                "ownerUserId": USER_ID,
                "threadVersion": 1,
                "usesThreadActors": True,
                "usesDtw": True,
                "executorType": body.get("executorType", "local-client"),
                "capability": "execute",
            }
        )

    async def actor_socket(self, request: web.Request) -> web.StreamResponse:
        offered = request.headers.get("Sec-WebSocket-Protocol", "")
        thread_id = request.query.get("rvt-key", "")
        token = conn_params(offered).get("wsToken")
        if not token or self.threads.get(thread_id) != token:
            return json_response({"error": "invalid wsToken", "code": "UNAUTHORIZED"}, 401)
        protocols = [p.strip() for p in offered.split(",")]
        seen: dict[str, Any] = {
            "thread": thread_id, "protocols": protocols, "frames": [], "closed": False,
            "headers": dict(request.headers),
        }  # fmt: skip
        self.sockets.append(seen)
        if BARE_ENCODING in protocols:
            # The CLI's own socket: Rivet's server would speak first, in a protocol this
            # fake does not play, so it refuses the upgrade and says why.
            return json_response({"error": ACTOR_NOT_PLAYED, "code": "NOT_PLAYED"}, 501)
        socket = web.WebSocketResponse(protocols=protocols[:1])
        await socket.prepare(request)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                seen["frames"].append(message.data)
                await socket.send_str(message.data)
            elif message.type == WSMsgType.BINARY:
                seen["frames"].append(message.data)
                await socket.send_bytes(message.data)
        seen["closed"] = True
        return socket

    async def stream(self, request: web.Request) -> web.StreamResponse:
        chunks = int(request.query.get("chunks", "3"))
        interval = float(request.query.get("interval", "0.2"))
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        for i in range(chunks):
            if i:
                await asyncio.sleep(interval)
            await response.write(f"chunk{i}\n".encode())
        await response.write_eof()
        return response
