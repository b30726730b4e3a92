"""Calls from one worker to another over the other's private socket (router/api/internal.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import aiohttp

from router.shared.role import TOKEN_HEADER, WorkerRole

# Seconds another worker gets to answer a health or metrics question.
ASK_TIMEOUT = 5.0


class WorkerPeers:
    def __init__(self, role: WorkerRole) -> None:
        self.role = role
        self._clients: dict[int, aiohttp.ClientSession] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def client(self, worker: int) -> aiohttp.ClientSession:
        """A session to ``worker``'s socket; requests use http://worker/<path>."""
        client = self._clients.get(worker)
        if client is None or client.closed:
            connector = aiohttp.UnixConnector(path=str(self.role.socket_path(worker)))
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=ASK_TIMEOUT)
            client = aiohttp.ClientSession(
                connector=connector, timeout=timeout, headers={TOKEN_HEADER: self.role.token}
            )
            self._clients[worker] = client
        return client

    async def text(self, worker: int, path: str) -> str | None:
        """GET ``path`` from ``worker``; None when it did not answer in time."""
        try:
            async with asyncio.timeout(ASK_TIMEOUT):
                async with self.client(worker).get(f"http://worker{path}") as reply:
                    return await reply.text() if reply.status == 200 else None
        except (aiohttp.ClientError, TimeoutError):
            return None

    def tell(self, worker: int, path: str, payload: dict[str, Any]) -> None:
        """POST ``payload`` to ``worker`` in the background; failures are dropped (the
        worker is gone, and what it held with it)."""
        self._spawn(self._post(worker, path, payload))

    async def _post(self, worker: int, path: str, payload: dict[str, Any]) -> None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with asyncio.timeout(ASK_TIMEOUT):
                async with self.client(worker).post(f"http://worker{path}", json=payload):
                    pass

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=ASK_TIMEOUT)
        for client in self._clients.values():
            await client.close()
