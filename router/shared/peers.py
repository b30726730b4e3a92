"""Calls from one worker to another over the other's private socket (router/api/internal.py)."""

from __future__ import annotations

import asyncio

import aiohttp

from router.shared.role import TOKEN_HEADER, WorkerRole

# Seconds another worker gets to answer a health or metrics question.
ASK_TIMEOUT = 5.0


class WorkerPeers:
    def __init__(self, role: WorkerRole) -> None:
        self.role = role
        self._clients: dict[int, aiohttp.ClientSession] = {}

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

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
