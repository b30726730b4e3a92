"""A fake AI Studio origin on 127.0.0.1: a signed-in page and a Gemini-compatible API.

The page needs a session cookie (without it: redirect to a sign-in page with a login
button). The API answers only requests carrying that cookie, and can be told to answer
429, to hold the stream until released, to stall forever, or to cut the stream.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

COOKIE = "SID"

APP_PAGE = """<!doctype html><html><head><title>Google AI Studio</title></head>
<body><div id="app">AI Studio</div>
<script>localStorage.setItem("aistudio-pref", "dark");</script></body></html>"""

SIGN_IN_PAGE = """<!doctype html><html><head><title>Sign in</title></head>
<body><form><button id="login" type="button">Sign in</button></form></body></html>"""


def sse(text: str) -> bytes:
    event = {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]}
    return f"data: {json.dumps(event)}\r\n\r\n".encode()


@dataclass
class FakeAIStudio:
    valid_sessions: set[str] = field(default_factory=lambda: {"good-session"})
    mode: str = "ok"
    chunks: int = 3
    gate: asyncio.Queue[None] | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrivals: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    disconnects: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    api_calls: int = 0
    server: TestServer | None = None

    @property
    def origin(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def signed_in(self, request: web.Request) -> bool:
        return request.cookies.get(COOKIE) in self.valid_sessions

    async def page(self, request: web.Request) -> web.StreamResponse:
        if not self.signed_in(request):
            raise web.HTTPFound("/signin?continue=/")
        return web.Response(text=APP_PAGE, content_type="text/html")

    async def sign_in(self, request: web.Request) -> web.Response:
        return web.Response(text=SIGN_IN_PAGE, content_type="text/html")

    async def api(self, request: web.Request) -> web.StreamResponse:
        self.api_calls += 1
        _model, _, action = request.match_info["target"].partition(":")
        await request.read()
        if not self.signed_in(request):
            return web.json_response(
                {"error": {"code": 401, "message": "no session", "status": "UNAUTHENTICATED"}},
                status=401,
            )
        if self.mode == "quota":
            return web.json_response(
                {
                    "error": {
                        "code": 429,
                        "message": "You've reached your rate limit.",
                        "status": "RESOURCE_EXHAUSTED",
                    }
                },
                status=429,
            )
        if action == "generateContent":
            return web.json_response(
                {"candidates": [{"content": {"role": "model", "parts": [{"text": "hello"}]}}]}
            )
        return await self._stream(request)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        tag = request.headers.get("X-Test-Tag", "")
        await self.arrivals.put(tag)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            for index in range(self.chunks):
                if index and self.gate is not None:
                    await self.gate.get()
                if index and self.mode == "hold":
                    await self.release.wait()
                if index == 1 and self.mode == "cut":
                    assert request.transport is not None
                    request.transport.abort()
                    return response
                if index == 1 and self.mode == "stall":
                    await asyncio.Event().wait()
                await response.write(sse(f"part {index}"))
            await response.write_eof()
        except (asyncio.CancelledError, ConnectionError):
            await self.disconnects.put(tag)
            raise
        return response


async def start_fake_aistudio() -> FakeAIStudio:
    fake = FakeAIStudio()
    app = web.Application()
    app.router.add_get("/", fake.page)
    app.router.add_get("/signin", fake.sign_in)
    app.router.add_post("/v1beta/models/{target}", fake.api)
    fake.server = TestServer(app, host="127.0.0.1", port=0, handler_cancellation=True)
    await fake.server.start_server()
    return fake
