"""System Chromium through Playwright: launch, crash detection, restart with backoff and a cap."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import psutil
from playwright.async_api import (
    Browser,
    BrowserContext,
    Playwright,
    StorageState,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

from providers.aistudio import constants
from providers.aistudio.errors import BrowserUnavailable
from router.logs import log_fields

log = logging.getLogger("aistudio.browser")

StorageLoader = Callable[[], dict[str, Any] | None]


def as_storage_state(storage: dict[str, Any]) -> StorageState:
    """The session file's JSON, which has Playwright's storage-state shape (it was written
    from ``storage_state()`` or checked by the session import); Playwright validates it."""
    return cast("StorageState", storage)


class BrowserManager:
    """Keeps one Chromium with one context (the logged-in session) alive."""

    def __init__(
        self,
        chromium_path: str,
        *,
        headless: bool,
        storage_loader: StorageLoader,
    ) -> None:
        self._chromium_path = chromium_path
        self._headless = headless
        self._storage_loader = storage_loader
        self._instance = uuid.uuid4().hex
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._ready = asyncio.Event()
        self._launched = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stopping = False
        self._restart_task: asyncio.Task[None] | None = None
        self._crashes: deque[float] = deque()
        self.state = "stopped"
        self.last_error = ""
        self.generation = 0
        self.restarts = 0

    async def start(self) -> None:
        self._stopping = False
        async with self._lock:
            await self._launch()

    async def _launch(self) -> None:
        self.state = "starting"
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        args = [*constants.CHROMIUM_FLAGS, f"{constants.INSTANCE_FLAG}={self._instance}"]
        if self._headless:
            args.insert(0, constants.HEADLESS_FLAG)
        browser = await self._playwright.chromium.launch(
            executable_path=self._chromium_path, headless=self._headless, args=args
        )
        storage = self._storage_loader()
        context = (
            await browser.new_context(storage_state=as_storage_state(storage)) if storage else None
        )
        if context is None:
            context = await browser.new_context()
        self._browser, self._context = browser, context
        self.generation += 1
        browser.on("disconnected", lambda _browser: self._on_disconnected(browser))
        self.state = "running"
        self._ready.set()
        self._launched.set()
        log_fields(
            log,
            logging.INFO,
            event="browser_started",
            generation=self.generation,
            version=browser.version,
        )

    def _on_disconnected(self, browser: Browser) -> None:
        if browser is not self._browser or self._stopping:
            return
        self._ready.clear()
        self._browser = self._context = None
        self.last_error = "browser process exited"
        log_fields(log, logging.WARNING, event="browser_crashed", generation=self.generation)
        self._restart_task = asyncio.create_task(self._restart_after_crash())

    async def _restart_after_crash(self) -> None:
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > constants.BROWSER_CRASH_WINDOW_SECONDS:
            self._crashes.popleft()
        if len(self._crashes) > constants.BROWSER_MAX_CRASHES:
            self.state = "failed"
            self.last_error = (
                f"browser crashed {len(self._crashes)} times in "
                f"{constants.BROWSER_CRASH_WINDOW_SECONDS:g}s; not restarting"
            )
            log_fields(log, logging.ERROR, event="browser_gave_up", crashes=len(self._crashes))
            return
        self.state = "restarting"
        attempt = len(self._crashes) - 1
        while not self._stopping:
            delay = min(
                constants.BROWSER_RESTART_CAP_SECONDS,
                constants.BROWSER_RESTART_BASE_SECONDS * 2**attempt,
            )
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            try:
                async with self._lock:
                    if self._stopping:
                        return
                    await self._launch()
                self.restarts += 1
                return
            except PlaywrightError as exc:
                attempt += 1
                self.last_error = f"browser restart failed: {exc.message.splitlines()[0]}"
                log_fields(log, logging.WARNING, event="browser_restart_failed", attempt=attempt)

    async def context(self, wait: float) -> BrowserContext:
        """The live context; waits up to ``wait`` seconds while the browser (re)starts."""
        if self.state == "failed":
            raise BrowserUnavailable(f"browser unavailable: {self.last_error}")
        if self.state == "stopped":
            raise BrowserUnavailable("browser is not running")
        try:
            async with asyncio.timeout(wait):
                await self._ready.wait()
        except TimeoutError:
            raise BrowserUnavailable(f"browser not ready: {self.last_error}") from None
        assert self._context is not None
        return self._context

    async def wait_for_generation(self, generation: int) -> None:
        """Wait until the browser has (re)started at least up to ``generation``."""
        while self.generation < generation:
            self._launched.clear()
            await self._launched.wait()

    async def reload_session(self) -> None:
        """Replace the context with one built from the current storage state."""
        async with self._lock:
            if self._browser is None:
                return
            self._ready.clear()
            old, self._context = self._context, None
            if old is not None:
                with contextlib.suppress(PlaywrightError):
                    await old.close()
            storage = self._storage_loader()
            self._context = await self._browser.new_context(
                storage_state=as_storage_state(storage) if storage else None
            )
            self.generation += 1
            self._ready.set()

    async def storage_state(self) -> dict[str, Any] | None:
        if self._context is None or not self._ready.is_set():
            return None
        try:
            return dict(await self._context.storage_state())
        except PlaywrightError:
            return None

    async def launch_visible(self) -> Browser:
        """A separate headed browser for an interactive sign-in (needs a display)."""
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        return await self._playwright.chromium.launch(
            executable_path=self._chromium_path,
            headless=False,
            args=list(constants.CHROMIUM_FLAGS),
        )

    def browser_pids(self) -> list[int]:
        """Main Chromium process of this manager (found by its instance flag)."""
        marker = f"{constants.INSTANCE_FLAG}={self._instance}"
        pids = []
        for proc in psutil.process_iter(["pid", "cmdline"]):
            cmdline = proc.info.get("cmdline") or []
            if marker in cmdline and not any(arg.startswith("--type=") for arg in cmdline):
                pids.append(proc.info["pid"])
        return pids

    def describe(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "generation": self.generation,
            "restarts": self.restarts,
            "last_error": self.last_error,
        }

    async def stop(self) -> None:
        self._stopping = True
        self._ready.clear()
        if self._restart_task is not None:
            self._restart_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._restart_task
        async with self._lock:
            browser, self._browser, self._context = self._browser, None, None
            if browser is not None:
                with contextlib.suppress(PlaywrightError):
                    await browser.close()
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None
        self.state = "stopped"
