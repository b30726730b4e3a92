"""A real outbound proxy on 127.0.0.1 (random port) for the ``proxy-url`` tests: pproxy's
HTTP (CONNECT) or SOCKS5 server, run in the test's own event loop, with a user and
password it checks on every connection.

``proxy.url`` is what goes into config.yaml; ``proxy.tunnels`` lists the destinations
(``host:port``) it connected to, and ``proxy.refused`` the attempts it turned away.
"""

from __future__ import annotations

import asyncio
import re
import socket
from typing import Self

import pproxy

USER = "proxyuser"
PASSWORD = "pr0xy-s3cret-pw"
_TUNNEL = re.compile(r"^\w+ \S+ -> (\S+)$")


class LocalProxy:
    """``async with LocalProxy("socks5") as proxy:`` serves until the block ends."""

    def __init__(self, scheme: str, *, user: str = USER, password: str = PASSWORD) -> None:
        self.scheme = scheme
        self.user = user
        self.password = password
        self.tunnels: list[str] = []
        self.refused: list[str] = []
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.user}:{self.password}@127.0.0.1:{self.port}"

    def _heard(self, line: str) -> None:
        match = _TUNNEL.match(line)
        if match:
            self.tunnels.append(match.group(1))
        else:
            self.refused.append(line)

    async def __aenter__(self) -> Self:
        listen = pproxy.Server(f"{self.scheme}://127.0.0.1:0#{self.user}:{self.password}")
        # authtime 0: every connection proves the password (pproxy trusts an address that
        # once did for 30 days by default).
        self._server = await listen.start_server(
            {"rserver": [], "verbose": self._heard, "authtime": 0}
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        # Not wait_closed(): tunnels the router keeps pooled end when the router stops.
        assert self._server is not None
        self._server.close()


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
