"""The consumer's view of one relayed request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from router.relay import protocol
from router.relay.errors import RelayError
from router.relay.session import PendingRequest

Abandon = Callable[[PendingRequest], Awaitable[None]]


async def open_reply(
    pending: PendingRequest, frame_type: str, payload: dict[str, Any], abandon: Abandon
) -> RelayReply:
    """The reply for a request's first frame; a bad head fails (and frees) the request."""
    if frame_type == protocol.ERROR:
        pending.status = error_from_payload(payload).status
        raise error_from_payload(payload)
    try:
        if frame_type not in (protocol.STREAM_START, protocol.HTTP_RESPONSE):
            raise protocol.ProtocolError(f"'{frame_type:.40}' came before a response head")
        pending.status = protocol.head_status(payload, default=200)
        body = payload.get("body") or ""
        if frame_type == protocol.HTTP_RESPONSE and not isinstance(body, str):
            raise protocol.ProtocolError("http_response body must be a string")
    except protocol.ProtocolError as exc:
        await abandon(pending)
        raise RelayError(f"relay peer sent a malformed response: {exc}") from None
    headers = protocol.flatten_headers(payload.get("headers"))
    if frame_type == protocol.STREAM_START:
        pending.streaming = True
        return RelayReply(pending, headers, None, abandon)
    return RelayReply(pending, headers, body.encode(), abandon)


def error_from_payload(payload: dict[str, Any]) -> RelayError:
    message = payload.get("error") or payload.get("message")
    if not isinstance(message, str) or not message:
        message = "relay peer reported an error"
    status = payload.get("status")
    if type(status) is not int or not 400 <= status <= 599:
        status = 502
    return RelayError(message[:1000], status)


class RelayReply:
    """Status, headers and body chunks of one relayed request.

    Iterate it for the body (raw SSE text when ``streaming``); always ``aclose()`` it
    (or use ``async with``) so that an unfinished request is cancelled at the peer.
    """

    def __init__(
        self,
        pending: PendingRequest,
        headers: dict[str, str],
        body: bytes | None,
        abandon: Abandon,
    ) -> None:
        self._pending = pending
        self.status = pending.status
        self.headers = headers
        self.streaming = pending.streaming
        self._body = body
        self._abandon = abandon
        self._done = False

    def __aiter__(self) -> RelayReply:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        if not self.streaming:
            self._done = True
            if self._body:
                body, self._body = self._body, None
                return body
            raise StopAsyncIteration
        while True:
            try:
                frame_type, payload = await self._pending.buffer.get()
            except RelayError:
                self._done = True
                raise
            chunk = self._on_frame(frame_type, payload)
            if chunk:
                self._pending.body_delivered = True
                return chunk

    def _on_frame(self, frame_type: str, payload: dict[str, Any]) -> bytes | None:
        """Turn one frame into body bytes, or end the iteration."""
        if frame_type == protocol.STREAM_CHUNK:
            data = payload.get("data", "")
            if not isinstance(data, str):
                self._done = True
                raise RelayError("relay peer sent a malformed stream_chunk: data is not a string")
            return data.encode()
        if frame_type == protocol.STREAM_END:
            self._done = True
            raise StopAsyncIteration
        if frame_type == protocol.ERROR:
            self._done = True
            raise error_from_payload(payload)
        if frame_type == protocol.STREAM_START and payload.get("status") == self.status:
            return None
        self._done = True
        raise RelayError(
            "relay session changed during the request and the retry answered differently"
        )

    async def aclose(self) -> None:
        self._done = True
        await self._abandon(self._pending)

    async def __aenter__(self) -> RelayReply:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
