"""A real outbound proxy on 127.0.0.1 (random port) for the ``proxy-url`` tests: pproxy's
HTTP (CONNECT), HTTPS (CONNECT over TLS, with a self-signed certificate made by openssl)
or SOCKS5 server, run in the test's own event loop, with a user and password it checks
on every connection.

``proxy.url`` is what goes into config.yaml; ``proxy.tunnels`` lists the destinations
(``host:port``) it connected to, and ``proxy.refused`` the attempts it turned away.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
from pathlib import Path
from typing import Self

import pproxy

USER = "proxyuser"
PASSWORD = "pr0xy-s3cret-pw"
_TUNNEL = re.compile(r"^\w+ \S+ -> (\S+)$")


class LocalProxy:
    """``async with LocalProxy("socks5") as proxy:`` serves until the block ends."""

    def __init__(
        self,
        scheme: str,
        *,
        user: str = USER,
        password: str = PASSWORD,
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        """``certificate``: (cert, key) files an https proxy serves (``self_signed``)."""
        self.scheme = scheme
        self.certificate = certificate
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
        listen_scheme = "http+ssl" if self.scheme == "https" else self.scheme
        listen = pproxy.Server(f"{listen_scheme}://127.0.0.1:0#{self.user}:{self.password}")
        if self.certificate is not None:
            listen.sslserver.load_cert_chain(*self.certificate)
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


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), valid for a day."""
    cert, key = directory / "proxy-cert.pem", directory / "proxy-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key
