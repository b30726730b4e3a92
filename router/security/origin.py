"""Which Host names and browser origins this router answers, built from one config.

Host: loopback names (``localhost``, ``*.localhost``, any loopback address) are always
ours; so are ``host`` (unless it is a wildcard address) and ``public-hosts``. When ``host``
is a wildcard (0.0.0.0, ::) any IP-address Host is served too: an address cannot be
re-pointed by DNS, and clients on the network reach the router by its address. Any other
name is what a DNS-rebinding page sends and is refused.

Origin: only ``cors-origins`` (exact, or ``*.`` subdomain entries); ``/v1/ws`` also admits
the AI Studio origins, where the Build applet runs. ``null`` (sandboxed frames, file://)
never matches.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from router.config.origins import host_name, normal_origin, split_wildcard
from router.config.schema import Config

RELAY_PATH = "/v1/ws"
# AI Studio itself and the sandboxed origins its Build applets run in.
AISTUDIO_ORIGINS = ("https://aistudio.google.com", "https://*.scf.usercontent.goog")
_WILDCARD_BINDS = ("", "0.0.0.0", "::", "[::]")


@dataclass(frozen=True)
class OriginSet:
    """Exact origins in normal form plus ``(scheme://, .suffix)`` wildcard entries."""

    exact: frozenset[str]
    suffixes: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, entries: tuple[str, ...]) -> OriginSet:
        exact: set[str] = set()
        suffixes: list[tuple[str, str]] = []
        for entry in entries:
            wildcard = split_wildcard(entry)
            if wildcard is not None:
                suffixes.append(wildcard)
            elif (normal := normal_origin(entry)) is not None:
                exact.add(normal)
        return cls(frozenset(exact), tuple(suffixes))

    def admits(self, origin: str) -> bool:
        normal = normal_origin(origin)
        if normal is None:
            return False
        if normal in self.exact:
            return True
        scheme, _, rest = normal.partition("://")
        for prefix, suffix in self.suffixes:
            if prefix == scheme + "://" and rest.endswith(suffix) and len(rest) > len(suffix):
                return True
        return False


@dataclass(frozen=True)
class OriginPolicy:
    names: frozenset[str]
    any_address: bool
    origins: OriginSet
    relay_origins: OriginSet

    @classmethod
    def from_config(cls, config: Config) -> OriginPolicy:
        bind = host_name(config.host)
        names = {host_name(h) for h in config.public_hosts}
        if bind not in _WILDCARD_BINDS:
            names.add(bind)
        return cls(
            names=frozenset(names),
            any_address=bind in _WILDCARD_BINDS,
            origins=OriginSet.parse(config.cors_origins),
            relay_origins=OriginSet.parse(config.cors_origins + AISTUDIO_ORIGINS),
        )

    def serves_host(self, host_header: str | None) -> bool:
        """Whether a request's Host names this router (no Host: an HTTP/1.0 tool, served)."""
        if host_header is None:
            return True
        name = host_name(host_header)
        if name == "localhost" or name.endswith(".localhost") or name in self.names:
            return True
        address = _address(name)
        if address is None:
            return False
        return address.is_loopback or self.any_address

    def admits_origin(self, origin: str, path: str) -> bool:
        allowed = self.relay_origins if path == RELAY_PATH else self.origins
        return allowed.admits(origin)

    @staticmethod
    def is_same_origin(origin: str, host: str | None) -> bool:
        """A page this router served itself (the dashboard) calling back to the same Host.

        Only meaningful once ``host`` passed ``serves_host``: a rebinding page's Host is
        refused before this is asked, and browsers do not let a page choose its Origin.
        """
        normal = normal_origin(origin)
        if normal is None or not host:
            return False
        return normal in (normal_origin(f"http://{host}"), normal_origin(f"https://{host}"))


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None
