"""What a running router holds: memory, file descriptors, connections to its upstream."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

import psutil

from bench.processes import Child, health

MB = 1024 * 1024


@dataclass
class Holdings:
    rss_mb: float
    fds: int
    upstream_sockets: int
    upstream_connections: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.rss_mb:.1f} MB RSS, {self.fds} fds, {self.upstream_sockets} sockets to "
            f"the upstream, {self.upstream_connections} open upstream replies"
        )

    def within(self, idle: Holdings) -> bool:
        """No more descriptors, sockets or open replies than at idle."""
        return (
            self.fds <= idle.fds
            and self.upstream_sockets <= idle.upstream_sockets
            and self.upstream_connections <= idle.upstream_connections
        )


async def holdings(router: Child, upstream_port: int) -> Holdings:
    """Sockets count every TCP socket of the router whose peer is the upstream port, in
    any state (CLOSE_WAIT included: that is a leak too). /v1/health is asked last so its
    own connection is not counted in fds."""
    process = psutil.Process(router.pid)
    rss = process.memory_info().rss / MB
    fds = process.num_fds()
    sockets = sum(
        1 for c in process.net_connections(kind="tcp") if c.raddr and c.raddr.port == upstream_port
    )
    document = await health(router)
    return Holdings(
        rss_mb=round(rss, 2),
        fds=fds,
        upstream_sockets=sockets,
        upstream_connections=int(document["upstream_connections"]),
    )


async def settle(
    router: Child, upstream_port: int, idle: Holdings, limit_s: float
) -> tuple[Holdings, float | None]:
    """Poll until the router holds no more than at ``idle``; the last reading and how long
    it took (None when ``limit_s`` passed first)."""
    started = time.monotonic()
    while True:
        now = await holdings(router, upstream_port)
        waited = time.monotonic() - started
        if now.within(idle):
            return now, round(waited, 3)
        if waited >= limit_s:
            return now, None
        await asyncio.sleep(0.1)
