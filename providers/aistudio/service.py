"""The AI Studio service: relay requests in, page fetches out, session and quota state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError

from providers.aistudio import constants
from providers.aistudio.browser_manager import BrowserManager
from providers.aistudio.diagnostics import Diagnostics
from providers.aistudio.errors import (
    SESSION_EXPIRED_HINT,
    AIStudioError,
    BrowserCrashed,
    QuotaCooldown,
    SessionExpired,
)
from providers.aistudio.gemini_client import (
    GeminiPage,
    RelayedRequest,
    ResponseHead,
    looks_signed_out,
)
from providers.aistudio.interactive_login import InteractiveLogin, SignInAbandoned
from providers.aistudio.page_pool import PagePool
from providers.aistudio.session_manager import SessionManager, normalize_import
from providers.aistudio.ws_client import SESSION_LOGIN, FrameSender, RelayClient
from router.config import AIStudioConfig
from router.logs import log_fields, utc_iso

log = logging.getLogger("aistudio.service")

DROPPED_RESPONSE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass(frozen=True)
class ServiceSettings:
    """Everything the service needs beyond AIStudioConfig, resolved by main.py."""

    relay_url: str
    auth_dir: Path
    relay_heartbeat: float = 30.0


@dataclass
class Exchange:
    """What has been sent back for one request so far."""

    sender: FrameSender
    head: ResponseHead | None = None
    streaming: bool = False
    body: list[str] = field(default_factory=list)


def _iso(timestamp: float | None) -> str | None:
    return utc_iso(timestamp) if timestamp else None


def _wants_stream(request: RelayedRequest, head: ResponseHead) -> bool:
    content_type = head.headers.get("content-type", "")
    return content_type.startswith("text/event-stream") or "alt=sse" in request.url


def _relay_headers(headers: dict[str, str]) -> dict[str, list[str]]:
    return {k: [v] for k, v in headers.items() if k.lower() not in DROPPED_RESPONSE_HEADERS}


class AIStudioService:
    def __init__(self, config: AIStudioConfig, settings: ServiceSettings) -> None:
        self.config = config
        self.settings = settings
        storage_path = Path(config.storage_state)
        if not storage_path.is_absolute():
            storage_path = settings.auth_dir / storage_path
        self.session = SessionManager(storage_path)
        self.browser = BrowserManager(
            config.chromium_path, headless=config.headless, storage_loader=self.session.load
        )
        self.pool = PagePool(
            config.pages,
            config.queue_size,
            config.queue_timeout,
            factory=self._open_page,
            generation=lambda: self.browser.generation,
        )
        self.relay = RelayClient(
            settings.relay_url,
            config.relay_key,
            config.session_name,
            self.handle_request,
            heartbeat=settings.relay_heartbeat,
        )
        self.diagnostics = Diagnostics(Path(config.diagnostics_dir))
        self.last_success: float | None = None
        self.cooldown_until = 0.0
        self.cooldown_reason = ""
        self.interactive = InteractiveLogin(config.origin, self.browser.launch_visible)
        self._refresher: asyncio.Task[None] | None = None
        self._login_task: asyncio.Task[None] | None = None

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self.session.load()
        await self.browser.start()
        self.relay.start()
        self._refresher = asyncio.create_task(self._refresh_storage_periodically())
        log_fields(log, logging.INFO, event="service_started", session=self.session.state)

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        if self._login_task is not None:
            self._login_task.cancel()
        await self.relay.stop()
        await self.save_storage()
        await self.pool.clear()
        await self.browser.stop()
        log_fields(log, logging.INFO, event="service_stopped")

    async def save_storage(self) -> None:
        """Write the browser's cookies and local storage back, if the session is good."""
        if self.session.state != "logged_in":
            return
        state = await self.browser.storage_state()
        if state is not None:
            await asyncio.to_thread(self.session.save, state)

    async def _refresh_storage_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.config.storage_refresh_interval)
            try:
                await self.save_storage()
            except OSError as exc:
                log_fields(
                    log, logging.WARNING, event="storage_refresh_failed", error=type(exc).__name__
                )

    # ---- requests ----------------------------------------------------------------------

    async def handle_request(self, request: RelayedRequest, sender: FrameSender) -> None:
        exchange = Exchange(sender)
        try:
            self._check_ready()
            async with self.pool.lease() as page:
                await self._run(page, request, exchange)
        except asyncio.CancelledError:
            log_fields(log, logging.INFO, event="request_cancelled")
            raise
        except AIStudioError as exc:
            log_fields(
                log,
                logging.WARNING,
                event="request_failed",
                kind=type(exc).__name__,
                status=exc.status,
            )
            with contextlib.suppress(ConnectionError):
                await sender.send("error", {"error": exc.message, "status": exc.status})

    def _check_ready(self) -> None:
        if self.session.expired:
            raise SessionExpired(f"{SESSION_EXPIRED_HINT}; last problem: {self.session.detail}")
        remaining = self.cooldown_until - time.monotonic()
        if remaining > 0:
            raise QuotaCooldown(
                f"AI Studio quota cooldown, {remaining:.0f}s left: {self.cooldown_reason}"
            )

    async def _open_page(self) -> GeminiPage:
        context = await self.browser.context(wait=self.config.queue_timeout)
        try:
            page = await GeminiPage.open(
                context, self.config.origin, self.config.api_base, self.browser.generation
            )
        except PlaywrightError as exc:
            raise BrowserCrashed(
                f"could not open an AI Studio page: {type(exc).__name__}"
            ) from None
        try:
            await page.ensure_signed_in()
        except SessionExpired as exc:
            await self.diagnostics.capture(page.page, "session-expired")
            await page.close()
            self.session.mark_expired(exc.message)
            raise SessionExpired(f"{SESSION_EXPIRED_HINT} ({exc.message})") from None
        self.session.mark_logged_in()
        return page

    async def _run(self, page: GeminiPage, request: RelayedRequest, exchange: Exchange) -> None:
        async def on_head(head: ResponseHead) -> None:
            exchange.head = head
            if head.status < 400 and _wants_stream(request, head):
                exchange.streaming = True
                await exchange.sender.send(
                    "stream_start", {"status": head.status, "headers": _relay_headers(head.headers)}
                )

        async def on_chunk(text: str) -> None:
            if exchange.streaming:
                await exchange.sender.send("stream_chunk", {"data": text})
            else:
                exchange.body.append(text)

        result = await page.fetch(request, on_head, on_chunk)
        head = exchange.head
        if not result.ok or head is None:
            await self.diagnostics.capture(page.page, "fetch-failed")
            where = "stream broke" if exchange.streaming else "fetch failed"
            raise AIStudioError(f"AI Studio upstream {where}: {result.message[:200]}")
        body = "".join(exchange.body)
        if self._signed_out(head):
            await self.diagnostics.capture(page.page, "session-expired")
            self.session.mark_expired(f"upstream answered {head.status}")
            raise SessionExpired(f"{SESSION_EXPIRED_HINT} (upstream answered {head.status})")
        if head.status == constants.QUOTA_STATUS or (
            head.status >= 400 and any(m in body for m in constants.RATE_LIMIT_MARKERS)
        ):
            await self.diagnostics.capture(page.page, "quota")
            self._enter_cooldown(f"upstream answered {head.status}")
        elif head.status < 400:
            self.last_success = time.time()
        if exchange.streaming:
            await exchange.sender.send("stream_end", {})
            return
        await exchange.sender.send(
            "http_response",
            {"status": head.status, "headers": _relay_headers(head.headers), "body": body},
        )

    def _signed_out(self, head: ResponseHead) -> bool:
        if head.status in constants.SESSION_EXPIRED_STATUSES:
            return True
        if head.redirected and looks_signed_out(head.final_url, self.config.origin):
            return True
        return head.status < 400 and head.headers.get("content-type", "").startswith("text/html")

    def _enter_cooldown(self, reason: str) -> None:
        self.cooldown_until = time.monotonic() + self.config.quota_cooldown
        self.cooldown_reason = reason
        log_fields(
            log,
            logging.WARNING,
            event="quota_cooldown",
            seconds=self.config.quota_cooldown,
            reason=reason,
        )

    def clear_cooldown(self) -> None:
        self.cooldown_until = 0.0
        self.cooldown_reason = ""

    # ---- control actions ---------------------------------------------------------------

    async def import_session(self, body: Any, account: str | None) -> dict[str, Any]:
        """Install a storage state or cookie export, then check that it is signed in."""
        return await self._adopt(normalize_import(body), account)

    async def _adopt(self, state: dict[str, Any], account: str | None) -> dict[str, Any]:
        """Save a new login, load it into the browser and check it by opening a page.

        A good login ends the quota cooldown here and, by a ``session_login`` frame, in
        the router.
        """
        self.session.imported(account)
        await asyncio.to_thread(self.session.save, state)
        await self._reload_browser_session()
        try:
            async with self.pool.lease():
                pass
        except AIStudioError as exc:
            return {"ok": False, "state": self.session.state, "error": exc.message}
        await self.save_storage()
        self.clear_cooldown()
        await self.relay.announce(SESSION_LOGIN, {})
        return {"ok": True, "state": self.session.state}

    async def _reload_browser_session(self) -> None:
        await self.pool.clear()
        if self.browser.state in ("stopped", "failed"):
            await self.browser.start()
        else:
            await self.browser.reload_session()

    def can_log_in_interactively(self) -> bool:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))

    def start_interactive_login(self) -> None:
        if self._login_task is None or self._login_task.done():
            self.interactive.begin()
            self._login_task = asyncio.create_task(self._interactive_login())

    async def _interactive_login(self) -> None:
        try:
            state = await self.interactive.capture()
        except SignInAbandoned as exc:
            self.interactive.finish(False, str(exc))
            return
        except PlaywrightError as exc:
            first_line = (exc.message or type(exc).__name__).splitlines()[0][:200]
            self.interactive.finish(False, f"browser failed: {first_line}")
            return
        result = await self._adopt(state, None)
        self.interactive.finish(result["ok"], result.get("error", ""))

    async def forget_session(self) -> None:
        self.session.forget()
        await self.pool.clear()
        await self.browser.stop()
        log_fields(log, logging.INFO, event="session_forgotten")

    # ---- reporting ---------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        remaining = max(0.0, self.cooldown_until - time.monotonic())
        session = self.session.describe()
        return {
            "connected": self.relay.connected.is_set(),
            "account": session["account"],
            "session": session["state"],
            "session_age_seconds": session["session_age_seconds"],
            "last_success": _iso(self.last_success),
            "quota": {
                "state": "cooldown" if remaining else "ok",
                "remaining_seconds": round(remaining, 1),
                "reason": self.cooldown_reason if remaining else "",
            },
            "browser": self.browser.state,
        }

    def status(self) -> dict[str, Any]:
        return {
            **self.health(),
            "session_detail": self.session.describe(),
            "browser_detail": self.browser.describe(),
            "pool": self.pool.describe(),
            "relay": {
                "connected_since": _iso(self.relay.connected_since),
                "connections": self.relay.connections,
                "in_flight": self.relay.in_flight,
                "last_error": self.relay.last_error,
            },
            "session_name": self.config.session_name,
            "interactive_login": self.interactive.describe(),
        }
