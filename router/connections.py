"""Client connections: slow or idle clients are cut off, and aiohttp's own errors (a
request it cannot parse, oversized headers) are answered in the caller's API format.

aiohttp bounds none of this by itself: a client that trickles its headers or its body
holds a file descriptor for as long as it likes. ``ClientConnection`` is aiohttp's
per-connection protocol with three clocks from ``server:`` in the config:

- ``header-timeout``: from the connection opening, or the first byte of a later request,
  to the end of its header block; a client too slow is disconnected.
- ``body-timeout``: from the end of the headers to the end of the body; a body still
  arriving then fails the handler's read with a 408 (in the caller's format).
- ``keepalive-timeout``: aiohttp's own idle keep-alive clock.

``RouterRunner`` is ``web.AppRunner`` building these connections; each new connection
reads the settings of the current config, so a reload applies to the next connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from router.api.client_format import client_format
from router.config.schema import ServerConfig
from router.error_replies import error_response
from router.errors import ErrorKind, ProxyError
from router.logs import log_fields

log = logging.getLogger("router.connections")

Settings = Callable[[], ServerConfig]

# Bytes of a request's start kept to name its path when aiohttp cannot parse it.
_HEAD_KEPT = 2048
# Faults of the client's own making: logged as one line, never with a traceback.
_CLIENT_FAULTS = (ProxyError, web.RequestPayloadError, HttpProcessingError, ConnectionError)


class ClientConnection(RequestHandler):
    """aiohttp's HTTP/1 protocol with header and body deadlines."""

    def __init__(self, manager: web.Server, *, settings: ServerConfig, **kwargs: Any) -> None:
        super().__init__(manager, keepalive_timeout=settings.keepalive_timeout, **kwargs)
        self._settings = settings
        self._header_deadline: asyncio.TimerHandle | None = None
        self._body_deadline: asyncio.TimerHandle | None = None
        self._receiving: StreamReader | None = None
        self._head = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_deadlines()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        receiving = self._receiving
        if receiving is None or receiving.is_eof():
            receiving = None
            if not self._request_in_progress:
                self._await_headers()
            self._head += data[: _HEAD_KEPT - len(self._head)]
        parsed = self._request_count
        super().data_received(data)
        if self._request_count == parsed or not self._messages:
            return
        message, payload = self._messages[-1]
        if isinstance(message, RawRequestMessage):
            self._headers_arrived(payload)
        elif receiving is not None:
            self._body_unparsable(receiving)

    def _body_unparsable(self, payload: StreamReader) -> None:
        """The framing broke mid-body (a bad chunk size): aiohttp queues a bare 400 as a
        new request and leaves the handler waiting for the rest of the body. The handler's
        read fails instead, so it answers in its client's format, and the connection ends."""
        error_info = self._messages.pop()[0]
        reason = str(getattr(error_info, "message", "")).strip().splitlines() or ["bad framing"]
        self.close()
        payload.set_exception(
            ProxyError(
                400,
                f"request body could not be read: malformed HTTP framing: {reason[0].rstrip(':')}",
                ErrorKind.INVALID_REQUEST,
            )
        )

    def _await_headers(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self._loop.call_later(
                self._settings.header_timeout, self._headers_too_slow
            )

    def _headers_arrived(self, payload: StreamReader) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        self._head.clear()
        self._receiving = payload
        if self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None
        if not payload.is_eof():
            self._body_deadline = self._loop.call_later(
                self._settings.body_timeout, self._body_too_slow, payload
            )

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self._request_in_progress or not (self._receiving is None or self._receiving.is_eof()):
            return
        log_fields(
            log,
            logging.INFO,
            event="client_timeout",
            phase="headers",
            timeout_s=self._settings.header_timeout,
            peer=_peer(self.transport),
        )
        self.force_close()

    def _body_too_slow(self, payload: StreamReader) -> None:
        self._body_deadline = None
        if payload.is_eof():
            return
        timeout = self._settings.body_timeout
        log_fields(
            log,
            logging.INFO,
            event="client_timeout",
            phase="body",
            timeout_s=timeout,
            peer=_peer(self.transport),
        )
        payload.set_exception(
            ProxyError(
                408,
                f"the request body did not arrive within {timeout:g} s (server.body-timeout)",
                ErrorKind.TIMEOUT,
            )
        )

    def _cancel_deadlines(self) -> None:
        for handle in (self._header_deadline, self._body_deadline):
            if handle is not None:
                handle.cancel()
        self._header_deadline = self._body_deadline = None

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answer to what never reached the app, in the caller's format."""
        if request.writer.output_size > 0:
            raise ConnectionError("an answer has started; no error can follow it")
        path = _requested_path(bytes(self._head)) if request.path == "/" else request.path
        error = self._describe(status, exc)
        self._head.clear()
        fields = {"event": "http_error", "status": error.status, "path": path[:200]}
        if isinstance(exc, _CLIENT_FAULTS) or exc is None:
            log_fields(log, logging.INFO, **fields, reason=error.message)
        else:
            log.error("unhandled error path=%s", path[:200], exc_info=exc)
        response = error_response(client_format(path), error)
        response.force_close()
        return response

    def _describe(self, status: int, exc: BaseException | None) -> ProxyError:
        if isinstance(exc, LineTooLong):
            request_line_done = b"\r\n" in self._head or b"\n" in self._head
            if request_line_done:
                return ProxyError(
                    431,
                    f"a request header is longer than {self.max_field_size} bytes",
                    ErrorKind.INVALID_REQUEST,
                )
            return ProxyError(
                414,
                f"the request line is longer than {self.max_line_size} bytes",
                ErrorKind.INVALID_REQUEST,
            )
        if isinstance(exc, HttpProcessingError) and "too many headers" in exc.message.lower():
            return ProxyError(
                431, f"more than {self.max_headers} request headers", ErrorKind.INVALID_REQUEST
            )
        if isinstance(exc, HttpProcessingError) and 400 <= status < 500:
            reason = (exc.message.strip().splitlines() or ["bad request"])[0].rstrip(":")
            return ProxyError(
                status, f"malformed HTTP request: {reason}", ErrorKind.INVALID_REQUEST
            )
        if status == 504:
            return ProxyError(504, "the request timed out", ErrorKind.TIMEOUT)
        return ProxyError(500, "internal error; see the router log", ErrorKind.API_ERROR)

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """A body the client broke or abandoned is its fault: one line, no traceback."""
        exc = kwargs.get("exc_info")
        if isinstance(exc, _CLIENT_FAULTS):
            reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            log_fields(log, logging.INFO, event="connection_dropped", reason=reason[:200])
            return
        super().log_exception(*args, **kwargs)


def _requested_path(head: bytes) -> str:
    """The path of a request line (``METHOD /path?query HTTP/1.1``), or ``/``."""
    parts = head.split(b"\n", 1)[0].split(b" ")
    if len(parts) < 2 or not parts[1].startswith(b"/"):
        return "/"
    return parts[1].split(b"?", 1)[0].decode("latin-1")


def _peer(transport: asyncio.BaseTransport | None) -> str | None:
    peer = transport.get_extra_info("peername") if transport is not None else None
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else None


class _ClientServer(web.Server):
    """aiohttp's connection factory, making ``ClientConnection``s."""

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._settings = settings

    def __call__(self) -> RequestHandler:
        return ClientConnection(self, loop=self._loop, settings=self._settings(), **self._kwargs)


class RouterRunner(web.AppRunner):
    """``web.AppRunner`` whose connections keep the ``server:`` deadlines."""

    def __init__(self, app: web.Application, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._connection_settings = settings

    async def _make_server(self) -> web.Server:
        # aiohttp has no setting for the protocol class: take the server it built (after
        # the app's startup) and make the same one with our factory.
        base = await super()._make_server()
        return _ClientServer(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=base.handler_cancellation,
            loop=base._loop,
            settings=self._connection_settings,
            **base._kwargs,
        )
