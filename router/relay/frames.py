"""Bounded, lossless frame buffer between a session's reader and one request's consumer."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

Frame = tuple[str, dict[str, Any]]


class FrameBuffer:
    """Single-producer, single-consumer queue that never drops a frame.

    ``put`` waits while the buffer is full, which stalls the websocket reader that feeds
    it (backpressure). A failure is delivered only after every buffered frame.
    """

    def __init__(self, limit: int) -> None:
        self._items: deque[Frame] = deque()
        self._limit = max(1, limit)
        self._not_empty = asyncio.Event()
        self._not_full = asyncio.Event()
        self._not_full.set()
        self._failure: BaseException | None = None
        self._closed = False
        self.generation = 0

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, frame: Frame, generation: int) -> bool:
        """Append a frame sent for ``generation`` of the request.

        Returns False when the consumer has gone away or the request was re-sent elsewhere
        while this producer waited for room.
        """
        while len(self._items) >= self._limit and not self._stale(generation):
            self._not_full.clear()
            await self._not_full.wait()
        if self._stale(generation):
            return False
        self._items.append(frame)
        self._not_empty.set()
        return True

    def _stale(self, generation: int) -> bool:
        return self._closed or generation != self.generation

    async def get(self) -> Frame:
        while not self._items:
            if self._failure is not None:
                raise self._failure
            self._not_empty.clear()
            await self._not_empty.wait()
        frame = self._items.popleft()
        self._not_full.set()
        return frame

    def fail(self, exc: BaseException) -> None:
        """End the stream with an error, after the frames already buffered."""
        if self._failure is None:
            self._failure = exc
        self._not_empty.set()

    def discard_pending(self) -> None:
        """Forget frames not yet handed to the consumer and start a new generation."""
        self.generation += 1
        self._items.clear()
        self._not_full.set()

    def close(self) -> None:
        """The consumer is gone: release a producer waiting for room."""
        self._closed = True
        self._items.clear()
        self._not_full.set()
        self._not_empty.set()
