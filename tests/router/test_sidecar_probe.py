"""The one sidecar health probe: up, a non-200 answer, a body that is not JSON, nobody there."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from router.upstreams.probe import probe_health


async def _serve(handler: web.RequestHandler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/health", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_up_carries_the_sidecars_own_answer(http) -> None:
    seen: list[str | None] = []

    async def health(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"session": "valid"})

    async for url in _serve(health):
        report = await probe_health(http, url, {"Authorization": "Bearer k"})
    assert report == {"status": "up", "service": {"session": "valid"}}
    assert seen == ["Bearer k"]


async def test_non_200_is_down_with_the_status(http) -> None:
    async def health(request: web.Request) -> web.Response:
        return web.Response(status=503)

    async for url in _serve(health):
        report = await probe_health(http, url)
    assert report == {"status": "down", "reason": "/health answered 503"}


async def test_a_body_that_is_not_json_is_down_not_an_exception(http) -> None:
    async def health(request: web.Request) -> web.Response:
        return web.Response(text="<html>proxy page</html>", content_type="application/json")

    async for url in _serve(health):
        report = await probe_health(http, url)
    assert report["status"] == "down"
    assert str(report["reason"]).startswith(f"not reachable at {url}: ")


async def test_nobody_listening_is_down(http) -> None:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    report = await probe_health(http, url)
    assert report == {
        "status": "down",
        "reason": f"not reachable at {url}: ClientConnectorError",
    }
