"""A one-shot listener on the redirect URI's port, so a browser on this machine can finish
a login by itself; on a headless machine the user pastes ``code#state`` instead.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from router.logs import log_fields
from router.oauth.login import LoginError

log = logging.getLogger("router.oauth")

Complete = Callable[[str, str], Awaitable[str]]
_PAGE = "<!doctype html><title>cliproxy login</title><p>{}</p>"


class CallbackListener:
    """Serves the redirect URI's path until one login completes or ``close`` is called.

    ``complete(code, state)`` finishes the login and returns the account label.
    """

    def __init__(self, redirect_uri: str, complete: Complete) -> None:
        parts = urlsplit(redirect_uri)
        self.host = "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self._complete = complete
        self._runner: web.AppRunner | None = None
        self.done = asyncio.Event()

    async def start(self) -> bool:
        """Listen; False when the port is taken (another login, another program)."""
        app = web.Application()
        app.router.add_get(self.path, self._callback)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError:
            await runner.cleanup()
            return False
        self._runner = runner
        return True

    async def _callback(self, request: web.Request) -> web.Response:
        error = request.query.get("error")
        if error:
            return _page(f"Sign-in was not completed: {error}", 400)
        try:
            label = await self._complete(
                request.query.get("code", ""), request.query.get("state", "")
            )
        except LoginError as exc:
            return _page(exc.message, exc.status)
        self.done.set()
        log_fields(log, logging.INFO, event="login_callback", port=self.port)
        return _page(f"Logged in as {label}. You can close this tab.", 200)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _page(message: str, status: int) -> web.Response:
    return web.Response(
        text=_PAGE.format(html.escape(message)), status=status, content_type="text/html"
    )
