"""N pages serve N requests at once; more wait in a bounded queue with a timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from providers.aistudio.errors import PoolBusy
from providers.aistudio.gemini_client import GeminiPage

PageFactory = Callable[[], Awaitable[GeminiPage]]
CurrentGeneration = Callable[[], int]


class PagePool:
    """Leases pages; a waiter that is cancelled leaves the queue at once (Semaphore does so)."""

    def __init__(
        self,
        size: int,
        queue_size: int,
        queue_timeout: float,
        factory: PageFactory,
        generation: CurrentGeneration,
    ) -> None:
        self.size = size
        self._queue_size = queue_size
        self._queue_timeout = queue_timeout
        self._factory = factory
        self._generation = generation
        self._slots = asyncio.Semaphore(size)
        self._idle: list[GeminiPage] = []
        self.waiting = 0
        self.in_use = 0

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[GeminiPage]:
        await self._acquire_slot()
        page: GeminiPage | None = None
        try:
            page = await self._take_page()
            self.in_use += 1
            try:
                yield page
            finally:
                self.in_use -= 1
        except BaseException:
            if page is not None:
                await page.close()
                page = None
            raise
        finally:
            if page is not None:
                self._return(page)
            self._slots.release()

    async def _acquire_slot(self) -> None:
        if self._slots.locked() and self.waiting >= self._queue_size:
            raise PoolBusy(f"all {self.size} pages busy and {self.waiting} requests queued")
        self.waiting += 1
        try:
            async with asyncio.timeout(self._queue_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolBusy(
                f"no page became free within {self._queue_timeout:g}s (all {self.size} busy)"
            ) from None
        finally:
            self.waiting -= 1

    async def _take_page(self) -> GeminiPage:
        current = self._generation()
        while self._idle:
            page = self._idle.pop()
            if page.generation == current and page.usable:
                return page
            await page.close()
        return await self._factory()

    def _return(self, page: GeminiPage) -> None:
        if page.usable and page.generation == self._generation():
            self._idle.append(page)

    async def clear(self) -> None:
        idle, self._idle = self._idle, []
        for page in idle:
            await page.close()

    def describe(self) -> dict[str, int]:
        return {
            "pages": self.size,
            "in_use": self.in_use,
            "idle": len(self._idle),
            "waiting": self.waiting,
        }
