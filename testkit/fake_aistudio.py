"""A fake AI Studio origin on 127.0.0.1: a signed-in page and a Gemini-compatible API.

The page needs a session cookie (without it: redirect to a sign-in page with a login
button and a form that signs in with a known session value). The API answers only
requests carrying that cookie (``generateContent``, ``streamGenerateContent`` and
``countTokens``), and can be told to answer 429, to hold the stream until released, to
stall forever, or to cut the stream.

``python -m testkit.fake_aistudio [--chunks N] [--interval S]`` serves it as a
process (for the benchmarks): it prints its port, then serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

COOKIE = "SID"
GOOD_SESSION = "good-session"

APP_PAGE = """<!doctype html><html><head><title>Google AI Studio</title></head>
<body><div id="app">AI Studio</div>
<script>localStorage.setItem("aistudio-pref", "dark");</script></body></html>"""

SIGN_IN_PAGE = """<!doctype html><html><head><title>Sign in</title></head>
<body><form method="post" action="/signin">
<input id="session" name="session" autocomplete="off">
<button id="login" type="submit">Sign in</button></form></body></html>"""

Middleware = Callable[
    [web.Request, Callable[[web.Request], Awaitable[web.StreamResponse]]],
    Awaitable[web.StreamResponse],
]


def sse(text: str) -> bytes:
    event = {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]}
    return f"data: {json.dumps(event)}\r\n\r\n".encode()


def counted_tokens(body: dict[str, Any]) -> int:
    """The fake's token count: characters of every text part (distinct from any estimate)."""
    request = body.get("generateContentRequest") or body
    return sum(
        len(part.get("text", ""))
        for content in request.get("contents") or []
        for part in content.get("parts") or []
    )


@dataclass
class FakeAIStudio:
    valid_sessions: set[str] = field(default_factory=lambda: {GOOD_SESSION})
    mode: str = "ok"
    chunks: int = 3
    interval: float = 0.0
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

    async def submit_sign_in(self, request: web.Request) -> web.StreamResponse:
        """The sign-in form: a known session value sets the cookie and goes to the app."""
        session = str((await request.post()).get("session", ""))
        if session not in self.valid_sessions:
            return web.Response(text=SIGN_IN_PAGE, content_type="text/html", status=401)
        response = web.HTTPFound("/")
        response.set_cookie(COOKIE, session, httponly=True, max_age=3600)
        raise response

    async def api(self, request: web.Request) -> web.StreamResponse:
        self.api_calls += 1
        model, _, action = request.match_info["target"].partition(":")
        raw = await request.read()
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
        if action == "countTokens":
            return self._count(model, json.loads(raw or b"{}"))
        if action == "generateContent":
            return web.json_response(
                {"candidates": [{"content": {"role": "model", "parts": [{"text": "hello"}]}}]}
            )
        return await self._stream(request)

    def _count(self, model: str, body: dict[str, Any]) -> web.Response:
        """Like Gemini: the model named inside generateContentRequest must be the path's."""
        inner = body.get("generateContentRequest")
        if isinstance(inner, dict) and inner.get("model") != f"models/{model}":
            message = f"generateContentRequest.model {inner.get('model')!r} is not {model!r}"
            return web.json_response(
                {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}},
                status=400,
            )
        return web.json_response({"totalTokens": counted_tokens(body)})

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        tag = request.headers.get("X-Test-Tag", "")
        await self.arrivals.put(tag)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            for index in range(self.chunks):
                if index and self.interval:
                    await asyncio.sleep(self.interval)
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


def build_app(fake: FakeAIStudio, middlewares: tuple[Middleware, ...] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/", fake.page)
    app.router.add_get("/signin", fake.sign_in)
    app.router.add_post("/signin", fake.submit_sign_in)
    app.router.add_post("/v1beta/models/{target}", fake.api)
    return app


async def serve_fake(fake: FakeAIStudio, middlewares: tuple[Middleware, ...] = ()) -> FakeAIStudio:
    fake.server = TestServer(
        build_app(fake, middlewares), host="127.0.0.1", port=0, handler_cancellation=True
    )
    await fake.server.start_server()
    return fake


async def start_fake_aistudio() -> FakeAIStudio:
    return await serve_fake(FakeAIStudio())


async def _serve_until_stopped(chunks: int, interval: float) -> None:
    fake = await serve_fake(FakeAIStudio(chunks=chunks, interval=interval))
    assert fake.server is not None and fake.server.port is not None
    print(fake.server.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await fake.server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testkit.fake_aistudio")
    parser.add_argument("--chunks", type=int, default=3, help="SSE events per streamed answer")
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between events")
    args = parser.parse_args(argv)
    asyncio.run(_serve_until_stopped(args.chunks, args.interval))
    return 0


if __name__ == "__main__":
    sys.exit(main())
