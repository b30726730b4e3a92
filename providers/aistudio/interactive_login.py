"""Interactive sign-in: a visible browser on the AI Studio page until the user has signed in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import Browser, Page
from playwright.async_api import Error as PlaywrightError

from providers.aistudio import constants
from providers.aistudio.gemini_client import looks_signed_out
from router.logs import log_fields

log = logging.getLogger("aistudio.login")

SIGN_IN_POLL_MS = 500


class SignInAbandoned(Exception):
    """The user closed the sign-in window, or never finished signing in."""


class InteractiveLogin:
    """One sign-in at a time in a separate headed browser; ``page`` is the visible page.

    ``state``: idle, waiting_for_sign_in, verifying, signed_in or failed (``detail`` says why).
    """

    def __init__(
        self,
        origin: str,
        launch: Callable[[], Awaitable[Browser]],
        timeout: float = constants.INTERACTIVE_LOGIN_TIMEOUT_SECONDS,
    ) -> None:
        self._origin = origin
        self._launch = launch
        self._timeout = timeout
        self.state = "idle"
        self.detail = ""
        self.page: Page | None = None

    def begin(self) -> None:
        self.state, self.detail = "waiting_for_sign_in", ""

    async def capture(self) -> dict[str, Any]:
        """Open the origin in a visible browser and wait for the user to sign in.

        Returns the signed-in storage state; raises SignInAbandoned or PlaywrightError.
        """
        browser = await self._launch()
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(self._origin, timeout=constants.PAGE_LOAD_TIMEOUT_MS)
            self.page = page
            log_fields(log, logging.INFO, event="interactive_login_waiting")
            try:
                async with asyncio.timeout(self._timeout):
                    while not await self._signed_in(page):
                        await self._next_navigation(page)
            except TimeoutError:
                raise SignInAbandoned(f"no sign-in within {self._timeout:g}s") from None
            self.state = "verifying"
            return dict(await context.storage_state())
        finally:
            self.page = None
            with contextlib.suppress(PlaywrightError):
                await browser.close()

    async def _signed_in(self, page: Page) -> bool:
        if page.is_closed():
            raise SignInAbandoned("the sign-in window was closed")
        if looks_signed_out(page.url, self._origin):
            return False
        try:
            return not await page.locator(constants.LOGIN_BUTTON_SELECTOR).count()
        except PlaywrightError:
            # The page navigated while it was being read; look again on the next poll.
            return False

    @staticmethod
    async def _next_navigation(page: Page) -> None:
        """Wake on the page's next navigation, or after a short poll interval."""
        with contextlib.suppress(PlaywrightError):
            await page.wait_for_event("framenavigated", timeout=SIGN_IN_POLL_MS)

    def finish(self, signed_in: bool, detail: str = "") -> None:
        self.state, self.detail = ("signed_in" if signed_in else "failed"), detail
        if signed_in:
            log_fields(log, logging.INFO, event="interactive_login_saved")
        else:
            log_fields(log, logging.WARNING, event="interactive_login_failed", detail=detail)

    def describe(self) -> dict[str, str]:
        return {"state": self.state, "detail": self.detail}
