"""The one pooled session and open-reply count every upstream shares (router/upstreams/pool.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from router.config.schema import Timeouts
from router.upstreams.pool import UpstreamPool

pytestmark = pytest.mark.both_loops


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read(), headers={"X-Seen": "yes"})

    app = web.Application()
    app.router.add_post("/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/echo"
    await runner.cleanup()


def test_a_reply_counts_itself_closed_once() -> None:
    pool = UpstreamPool(Timeouts)
    first, second = pool.opened(), pool.opened()
    assert pool.active == 2
    first()
    first()
    assert pool.active == 1
    second()
    assert pool.active == 0


async def test_one_session_per_pool_made_on_first_use_and_closed(echo_url: str) -> None:
    pool = UpstreamPool(Timeouts)
    session = pool.session()
    assert pool.session() is session
    reply = await pool.post(echo_url, b"hello", {"Content-Type": "text/plain"})
    assert (reply.status, reply.headers["X-Seen"], pool.active) == (200, "yes", 1)
    assert await reply.next_chunk() == b"hello"
    reply.close()
    reply.close()
    assert pool.active == 0
    await pool.close()
    assert session.closed
    assert pool.session() is not session
    await pool.close()


async def test_a_pool_without_cookies_keeps_none(echo_url: str) -> None:
    pool = UpstreamPool(Timeouts, cookies=False)
    try:
        pool.session().cookie_jar.update_cookies({"sid": "1"})
        assert len(pool.session().cookie_jar) == 0
    finally:
        await pool.close()
