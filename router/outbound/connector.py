"""The connector behind every outbound session: direct, or through ``proxy-url``.

Proxies are reached with aiohttp-socks (python-socks underneath), which tunnels through
HTTP proxies with CONNECT (also for plain http destinations, so the proxy never sees a
request in the clear that it could rewrite), speaks TLS to an https proxy, and talks
SOCKS5. A destination ``NO_PROXY`` names is connected to directly, decided per new
connection; pooled connections are reused as usual.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
import aiohttp_socks
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_proto import ResponseHandler
from aiohttp.resolver import DefaultResolver
from aiohttp_socks import ProxyConnector, ProxyType

from router.config.proxy import ProxySetting, redact
from router.outbound.noproxy import NoProxy

_TYPES = {
    "http": ProxyType.HTTP,
    "https": ProxyType.HTTP,
    "socks5": ProxyType.SOCKS5,
    "socks5h": ProxyType.SOCKS5,
}
_PROXY_FAILURES = (
    aiohttp_socks.ProxyConnectionError,
    aiohttp_socks.ProxyTimeoutError,
    aiohttp_socks.ProxyError,
)


class ProxyUnreachable(aiohttp.ClientConnectionError):
    """The proxy could not be reached or refused the tunnel (message without secrets)."""


class _SplitResolver(AbstractResolver):
    """Resolves the destinations reached directly; leaves the others' names to the proxy."""

    def __init__(self, no_proxy: NoProxy) -> None:
        self._no_proxy = no_proxy
        self._direct = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._no_proxy.bypass(host, port):
            return await self._direct.resolve(host, port, family)
        unresolved: ResolveResult = {
            "hostname": host,
            "host": host,
            "port": port,
            "family": family,
            "proto": 0,
            "flags": 0,
        }
        return [unresolved]

    async def close(self) -> None:
        await self._direct.close()


class _ProxyConnector(ProxyConnector):
    def __init__(self, proxy_url: str, no_proxy: NoProxy, **kwargs: Any) -> None:
        parts = urlsplit(proxy_url)
        self._secret = unquote(parts.password) if parts.password else ""
        super().__init__(
            host=parts.hostname or "",
            port=parts.port or 0,
            proxy_type=_TYPES[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=self._secret or None,
            # socks5 resolves names here (python-socks would leave them to the proxy).
            rdns=parts.scheme == "socks5h" if parts.scheme.startswith("socks") else None,
            proxy_ssl=ssl.create_default_context() if parts.scheme == "https" else None,
            **kwargs,
        )
        self._resolver = _SplitResolver(no_proxy)
        self._resolver_owner = True
        self._no_proxy = no_proxy
        self.shown = redact(proxy_url)

    async def _wrap_create_connection(
        self, *args: Any, req: aiohttp.ClientRequest, **kwargs: Any
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        if self._no_proxy.bypass(req.url.host or "", req.url.port):
            return await aiohttp.TCPConnector._wrap_create_connection(
                self, *args, req=req, **kwargs
            )
        try:
            return await super()._wrap_create_connection(*args, req=req, **kwargs)
        except _PROXY_FAILURES as exc:
            raise self._unreachable("failed", exc) from None
        except ssl.SSLError as exc:
            # TLS to an https proxy, or through the tunnel to an https upstream.
            raise self._unreachable("TLS failed (to it or through it)", exc) from None

    def _unreachable(self, what: str, exc: Exception) -> ProxyUnreachable:
        reason = str(exc) or type(exc).__name__
        if self._secret:
            reason = reason.replace(self._secret, "***")
        return ProxyUnreachable(f"proxy {self.shown} {what}: {reason}")


def make_connector(proxy: ProxySetting, **options: Any) -> aiohttp.TCPConnector:
    """A connector through ``proxy.url`` (direct when empty) that reaches the destinations
    ``proxy.no_proxy`` names directly; ``options`` are TCPConnector's."""
    if not proxy.url:
        return aiohttp.TCPConnector(**options)
    return _ProxyConnector(proxy.url, NoProxy.parse(proxy.no_proxy), **options)


def client_session(
    proxy: ProxySetting, *, connector: Mapping[str, Any] | None = None, **session: Any
) -> aiohttp.ClientSession:
    """An outbound ``ClientSession`` (``session``: its keyword arguments) whose connections
    go through ``proxy``; ``connector``: TCPConnector options such as ``limit``."""
    return aiohttp.ClientSession(connector=make_connector(proxy, **(connector or {})), **session)
