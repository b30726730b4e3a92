"""Shared fixtures: a relay hub mounted in a small aiohttp app on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from router.relay import RelayHub


@dataclass
class HubServer:
    hub: RelayHub
    server: TestServer

    def ws_url(self, name: str | None = None) -> str:
        url = str(self.server.make_url("/v1/ws")).replace("http://", "ws://", 1)
        return f"{url}?name={name}" if name else url


async def start_hub_server(
    hub: RelayHub, on_login: Callable[[str], None] | None = None
) -> HubServer:
    async def handle_ws(request: web.Request) -> web.WebSocketResponse:
        return await hub.handle_ws(request, on_login=on_login)

    app = web.Application()
    app.router.add_get("/v1/ws", handle_ws)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    return HubServer(hub=hub, server=server)


@pytest.fixture
async def hub_server() -> AsyncIterator[HubServer]:
    served = await start_hub_server(RelayHub(frame_queue=8))
    yield served
    await served.hub.close()
    await served.server.close()
