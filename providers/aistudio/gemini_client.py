"""Runs one relayed Gemini request as a fetch inside a logged-in AI Studio page."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from providers.aistudio import constants
from providers.aistudio.errors import BrowserCrashed, SessionExpired
from router.logs import log_fields

log = logging.getLogger("aistudio.page")

EMIT_BINDING = "__cliproxyRelayEmit"

FETCH_SCRIPT = """
async ({id, url, method, headers, body}) => {
  const ctrl = new AbortController();
  window.__cliproxyAborts = window.__cliproxyAborts || {};
  window.__cliproxyAborts[id] = ctrl;
  const emit = window.__BINDING__;
  try {
    const init = {method, headers, signal: ctrl.signal, credentials: "include",
                  redirect: "follow"};
    if (method !== "GET" && method !== "HEAD") init.body = body;
    const resp = await fetch(url, init);
    const head = {};
    resp.headers.forEach((value, name) => { head[name] = value; });
    await emit(id, "head", {status: resp.status, headers: head, url: resp.url,
                            redirected: resp.redirected});
    if (resp.body) {
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const {done, value} = await reader.read();
        if (done) break;
        const text = decoder.decode(value, {stream: true});
        if (text) await emit(id, "chunk", text);
      }
      const tail = decoder.decode();
      if (tail) await emit(id, "chunk", tail);
    }
    return {ok: true};
  } catch (e) {
    return {ok: false, aborted: e && e.name === "AbortError", message: String(e)};
  } finally {
    delete window.__cliproxyAborts[id];
  }
}
""".replace("__BINDING__", EMIT_BINDING)

ABORT_SCRIPT = "id => { const c = (window.__cliproxyAborts || {})[id]; if (c) c.abort(); }"


@dataclass(frozen=True)
class RelayedRequest:
    request_id: str
    method: str
    url: str
    headers: dict[str, list[str]]
    body: str


@dataclass(frozen=True)
class ResponseHead:
    status: int
    headers: dict[str, str]
    final_url: str
    redirected: bool


@dataclass(frozen=True)
class FetchResult:
    ok: bool
    aborted: bool = False
    message: str = ""


OnHead = Callable[[ResponseHead], Awaitable[None]]
OnChunk = Callable[[str], Awaitable[None]]


def rewrite_url(url: str, api_base: str) -> str:
    """Point a Gemini API URL at ``api_base`` and drop any API key in the query."""
    source, base = urlsplit(url), urlsplit(api_base)
    query = [(k, v) for k, v in parse_qsl(source.query) if k not in constants.DROPPED_QUERY_PARAMS]
    path = base.path.rstrip("/") + source.path
    return urlunsplit((base.scheme, base.netloc, path, urlencode(query), ""))


def browser_headers(headers: dict[str, list[str]]) -> dict[str, str]:
    return {
        name: ", ".join(values)
        for name, values in headers.items()
        if name.lower() not in constants.DROPPED_REQUEST_HEADERS
    }


def looks_signed_out(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    if parts.hostname in constants.SIGN_IN_HOSTS:
        return True
    if parts.netloc != urlsplit(origin).netloc:
        return False
    path = parts.path.lower()
    return any(marker in path for marker in constants.SIGN_IN_PATH_MARKERS)


class GeminiPage:
    """One AI Studio page that runs one relayed fetch at a time."""

    _counter = itertools.count(1)

    def __init__(self, page: Page, origin: str, api_base: str, generation: int) -> None:
        self.page = page
        self.origin = origin
        self.api_base = api_base
        self.generation = generation
        self.number = next(self._counter)
        self._handlers: dict[str, tuple[OnHead, OnChunk]] = {}

    @classmethod
    async def open(
        cls, context: BrowserContext, origin: str, api_base: str, generation: int
    ) -> GeminiPage:
        """Open the AI Studio origin; raises SessionExpired if it asks for a sign-in."""
        page = await context.new_page()
        worker = cls(page, origin, api_base, generation)
        try:
            await page.expose_function(EMIT_BINDING, worker._emit)
            await page.goto(origin, timeout=constants.PAGE_LOAD_TIMEOUT_MS)
            await worker.ensure_signed_in()
        except BaseException:
            with contextlib.suppress(PlaywrightError):
                await page.close()
            raise
        return worker

    async def ensure_signed_in(self) -> None:
        if looks_signed_out(self.page.url, self.origin):
            raise SessionExpired(
                f"AI Studio redirected to a sign-in page ({_short(self.page.url)})"
            )
        if await self.page.locator(constants.LOGIN_BUTTON_SELECTOR).count():
            raise SessionExpired("AI Studio shows a sign-in button")

    async def _emit(self, request_id: str, kind: str, data: Any) -> None:
        handlers = self._handlers.get(request_id)
        if handlers is None:
            return
        on_head, on_chunk = handlers
        if kind == "head":
            await on_head(
                ResponseHead(
                    status=int(data["status"]),
                    headers={str(k): str(v) for k, v in data["headers"].items()},
                    final_url=str(data["url"]),
                    redirected=bool(data["redirected"]),
                )
            )
        else:
            await on_chunk(str(data))

    async def fetch(
        self, request: RelayedRequest, on_head: OnHead, on_chunk: OnChunk
    ) -> FetchResult:
        """Run the request in the page, calling back as the head and each chunk arrive.

        Cancelling the calling task aborts the fetch in the page (AbortController).
        """
        args = {
            "id": request.request_id,
            "url": rewrite_url(request.url, self.api_base),
            "method": request.method.upper(),
            "headers": browser_headers(request.headers),
            "body": request.body,
        }
        self._handlers[request.request_id] = (on_head, on_chunk)
        try:
            result = await self.page.evaluate(FETCH_SCRIPT, args)
        except asyncio.CancelledError:
            await self._abort(request.request_id)
            raise
        except PlaywrightError as exc:
            raise BrowserCrashed(f"browser page failed mid-request: {_first_line(exc)}") from None
        finally:
            self._handlers.pop(request.request_id, None)
        return FetchResult(
            ok=bool(result.get("ok")),
            aborted=bool(result.get("aborted")),
            message=str(result.get("message") or ""),
        )

    async def _abort(self, request_id: str) -> None:
        with contextlib.suppress(PlaywrightError, TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.shield(self.page.evaluate(ABORT_SCRIPT, request_id))
        log_fields(log, logging.INFO, event="fetch_aborted", page=self.number)

    @property
    def usable(self) -> bool:
        return not self.page.is_closed()

    async def close(self) -> None:
        with contextlib.suppress(PlaywrightError):
            await self.page.close()


def _first_line(exc: PlaywrightError) -> str:
    return (exc.message or type(exc).__name__).splitlines()[0][:200]


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
