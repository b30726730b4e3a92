"""AI Studio through a logged-in browser: Gemini requests relayed over the /v1/ws hub.

The browser side (the providers/aistudio service, or the AI Studio Build applet) connects
out to the router; each connected relay session is one credential, named after the
session, so cooldowns and failover work per browser session. The upstream is always
registered, and is configured exactly while at least one session is connected.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from multidict import CIMultiDict

from router.config.proxy import DIRECT_CONNECTION
from router.config.schema import AISTUDIO_PROVIDER, AIStudioConfig, Timeouts
from router.errors import AttemptFailed, ErrorKind
from router.formats import Format, get_codec
from router.formats.errors import kind_for_status
from router.outbound import client_session
from router.relay import RelayError, RelayHub, RelayUnavailable
from router.relay.workers import RelayAnswer, WorkerRelays
from router.upstreams.base import (
    COUNT_TOKENS,
    UpstreamCall,
    UpstreamCredential,
    UpstreamReply,
    UpstreamStreamError,
)
from router.upstreams.gemini import gemini_model_url
from router.upstreams.pool import PooledUpstream, UpstreamPool
from router.upstreams.probe import probe_health
from router.upstreams.retry_after import retry_after_seconds

log = logging.getLogger("router.aistudio")

MODEL_SUFFIX = "-aistudio"
START_HINT = (
    "start the AI Studio service (python -m providers.aistudio with aistudio.enabled: true "
    "in config.yaml) or connect the AI Studio Build applet to /v1/ws"
)
LOGIN_HINT = "log in with `cliproxy login aistudio` (paste a storage state on a headless machine)"
LOGGED_OUT_STATES = ("absent", "expired")
_GEMINI_CODEC = get_codec(Format.GEMINI)
_CONTROL_TIMEOUT = aiohttp.ClientTimeout(total=10.0)


def login_required(session: str) -> AttemptFailed:
    """The browser has no valid Google session: a login fixes it, waiting does not.

    A status clients do not retry, and no rest for the session (retry_after 0), so the
    request right after ``cliproxy login aistudio`` succeeds instead of meeting the
    30-minute cooldown of a rejected credential.
    """
    return AttemptFailed(
        403,
        ErrorKind.PERMISSION,
        f"AI Studio session '{session}' is not logged in to Google: {LOGIN_HINT}",
        retry_after=0.0,
    )


class RelayStreamLost(UpstreamStreamError):
    """The relay failed while the body was being read (session dropped, error frame).

    An UpstreamStreamError: failover and streaming treat it as a lost upstream, and the
    client's error event carries the relay's own (secret-free) message.
    """


def upstream_model(model: str) -> str:
    """``gemini-2.5-flash-aistudio`` -> ``gemini-2.5-flash``."""
    return model.removesuffix(MODEL_SUFFIX)


def count_tokens_body(body: bytes) -> bytes:
    """countTokens names the model inside the body too; drop the suffix there as well."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    inner = payload.get("generateContentRequest") if isinstance(payload, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("model"), str):
        return body
    inner["model"] = upstream_model(inner["model"])
    return json.dumps(payload).encode()


class RelayedReply(UpstreamReply):
    """An UpstreamReply over a RelayReply; ``close`` cancels an unfinished request at the peer."""

    def __init__(self, owner: AIStudioUpstream, reply: RelayAnswer, on_close: Callable[[], None]):
        self._owner = owner
        self._reply = reply
        self._on_close: Callable[[], None] | None = on_close
        self.status = reply.status
        headers = CIMultiDict(reply.headers)
        if reply.streaming and "Content-Type" not in headers:
            # A stream_start frame is a streamed answer to an alt=sse request; some peers
            # (the Build applet) send it without headers.
            headers["Content-Type"] = "text/event-stream"
        self.headers: CIMultiDict[str] = headers

    async def next_chunk(self) -> bytes:
        try:
            return await anext(self._reply)
        except StopAsyncIteration:
            return b""
        except RelayError as exc:
            raise RelayStreamLost(exc.message) from None

    def close(self) -> None:
        if self._on_close is None:
            return
        on_close, self._on_close = self._on_close, None
        on_close()
        self._owner.release(self._reply)


class ErrorReply(UpstreamReply):
    """A peer's error frame, presented as the Gemini API would have answered it."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        self.status = status
        self.headers = CIMultiDict({"Content-Type": "application/json"})
        if retry_after is not None:
            self.headers["Retry-After"] = str(max(1, round(retry_after)))
        error = _GEMINI_CODEC.encode_error(status, message, kind_for_status(status))
        self._body = json.dumps(error).encode()

    async def next_chunk(self) -> bytes:
        body, self._body = self._body, b""
        return body

    def close(self) -> None:
        self._body = b""


class AIStudioUpstream(PooledUpstream):
    """Serves ``aistudio.model-pattern`` models through the relay hub, in Gemini format."""

    kind = "aistudio"
    wire_format = Format.GEMINI
    models = ()

    def __init__(
        self, config: AIStudioConfig, timeouts: Timeouts, hub: RelayHub | WorkerRelays
    ) -> None:
        self.name = AISTUDIO_PROVIDER
        self.config = config
        self.timeouts = timeouts
        self.hub = hub
        self.control = AIStudioControl(config)
        # Replies travel over the hub, so the pool only counts them; it never makes a session.
        self.pool = UpstreamPool(lambda: self.timeouts)
        self._closers: set[asyncio.Task[None]] = set()

    @property
    def credentials(self) -> tuple[UpstreamCredential, ...]:
        """One credential per connected relay session; the secret is unused."""
        return tuple(UpstreamCredential(name=s["name"], secret="") for s in self.hub.sessions())

    @property
    def counts_tokens(self) -> bool:
        """Gemini counts through the relay while a session is connected; else estimate."""
        return bool(self.hub.sessions())

    @property
    def unconfigured_reason(self) -> str | None:
        if self.hub.sessions():
            return None
        return f"no AI Studio relay session is connected: {START_HINT}"

    def url(self, call: UpstreamCall) -> str:
        return gemini_model_url(self.config.api_base, upstream_model(call.model), call)

    async def open(self, call: UpstreamCall) -> UpstreamReply:
        session = call.credential.name
        headers = {"Content-Type": ["application/json"], "X-Request-Id": [call.request_id]}
        if call.stream:
            headers["Accept"] = ["text/event-stream"]
        body = count_tokens_body(call.body) if call.operation == COUNT_TOKENS else call.body
        try:
            reply = await self.hub.request(
                "POST", self.url(call), headers, body.decode(), session=session
            )
        except RelayUnavailable as exc:
            raise AttemptFailed(
                503, ErrorKind.OVERLOADED, f"AI Studio relay: {exc.message}; {START_HINT}"
            ) from None
        except RelayError as exc:
            if exc.status == 401:
                raise login_required(session) from None
            rest = self._quota_rest(None) if exc.status == 429 else None
            return ErrorReply(exc.status, f"AI Studio relay: {exc.message}", rest)
        relayed = RelayedReply(self, reply, self.pool.opened())
        if reply.status == 401:
            relayed.close()
            raise login_required(session)
        if reply.status == 429:
            retry_after = retry_after_seconds(reply.headers.get("Retry-After"))
            rest = self._quota_rest(retry_after)
            relayed.headers.setdefault("Retry-After", str(max(1, round(rest))))
        return relayed

    def _quota_rest(self, retry_after: float | None) -> float:
        """The seconds a quota answer rests the session: Retry-After, else
        ``aistudio.quota-cooldown``. The failover's cooldowns hold the rest (they see it
        as this reply's Retry-After), so every worker skips the session."""
        return retry_after or self.config.quota_cooldown

    def release(self, reply: RelayAnswer) -> None:
        """Cancel a closed reply at the peer if unfinished (in the background)."""
        closer = asyncio.get_running_loop().create_task(reply.aclose())
        self._closers.add(closer)
        closer.add_done_callback(self._closers.discard)

    async def close(self) -> None:
        if self._closers:
            await asyncio.wait(list(self._closers), timeout=5)
        await self.control.close()
        await super().close()


class AIStudioControl:
    """Client of the AI Studio service's control port (127.0.0.1, Bearer relay key)."""

    def __init__(self, config: AIStudioConfig) -> None:
        self.enabled = config.enabled
        self.url = f"http://127.0.0.1:{config.control_port}"
        self._key = config.relay_key
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # The service listens on loopback: never through a configured proxy.
            self._session = client_session(DIRECT_CONNECTION)
        return self._session

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    async def call(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, dict[str, Any]]:
        """The service's status and JSON answer; raises ControlUnreachable."""
        headers = self._headers()
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with self._http().request(
                method, self.url + path, data=body, headers=headers, timeout=_CONTROL_TIMEOUT
            ) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
                if not isinstance(answer, dict):
                    answer = {"error": {"message": f"control port answered {response.status}"}}
                return response.status, answer
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ControlUnreachable(
                f"AI Studio service not reachable at {self.url}: {type(exc).__name__}; {START_HINT}"
            ) from None

    async def probe(self) -> dict[str, object]:
        """The service's own /health, or why it could not be read."""
        report = await probe_health(self._http(), self.url, self._headers())
        service = report.get("service")
        if isinstance(service, dict) and service.get("session") in LOGGED_OUT_STATES:
            report["login"] = "required"
            report["reason"] = f"Google session {service['session']}: {LOGIN_HINT}"
        return report

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class ControlUnreachable(Exception):
    """The AI Studio service's control port did not answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
