"""The consumer's view of one relayed request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from router.relay import protocol
from router.relay.errors import RelayError
from router.relay.session import PendingRequest


def error_from_payload(payload: dict[str, Any]) -> RelayError:
    message = payload.get("error") or payload.get("message") or "relay peer reported an error"
    status = payload.get("status")
    return RelayError(str(message), status if isinstance(status, int) and status >= 400 else 502)


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
        abandon: Callable[[PendingRequest], Awaitable[None]],
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
            return data.encode() if isinstance(data, str) else bytes(data)
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
