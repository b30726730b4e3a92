"""A fake of the Amp server's backend routes (what ampcode.com answers the Amp CLI).

It checks the user's Amp key (Bearer), records every request and answers the JSON-RPC
style ``POST /api/internal?<method>`` with ``{"ok": true, "result": ...}``,
``POST /api/telemetry`` with ``{"ok": true}``, and ``GET /api/stream?chunks=N&interval=S``
with N chunks S seconds apart (to prove the proxy streams). The answer shapes are this
fake's: the real server's could not be recorded offline, only the CLI's requests
(tests/clients/corpus/amp).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence

from aiohttp import web

from tests.fakes.base import FakeServer, Handler, RecordedRequest, json_response


class AmpFake(FakeServer):
    default_keys = ("sgamp_user_test",)

    def __init__(self, keys: Sequence[str] | None = None) -> None:
        super().__init__(keys)

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [("*", "/{tail:.*}", self.handle)]

    async def handle(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return json_response({"ok": False, "error": {"code": "auth-required"}}, 401)
        if request.path == "/api/stream":
            return await self.stream(request)
        if request.path == "/api/internal":
            method = next(iter(request.query), "")
            result = {"method": method, "params": (record.json or {}).get("params")}
            return web.Response(
                body=json.dumps({"ok": True, "result": result}).encode(),
                content_type="application/json",
                headers={"Set-Cookie": "amp_session=abc; Path=/; HttpOnly"},
            )
        if request.path == "/api/telemetry":
            return json_response({"ok": True})
        return json_response({"ok": False, "error": {"code": "not-found"}}, 404)

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
