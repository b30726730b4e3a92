"""``no-proxy`` (with NO_PROXY, or no_proxy, added by the config loader): the destinations
reached directly despite a proxy.

Entries are separated by commas or spaces: ``*`` (everything), a host name (itself and
its subdomains; a leading dot means the same), an IP address or network (``10.0.0.0/8``;
an address is matched by these only, never as text), each optionally with ``:port`` to
match that port only. Matching is case-insensitive, as curl and Python's urllib do it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[,\s]+")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class _Entry:
    domain: str = ""
    network: Network | None = None
    port: int | None = None


@dataclass(frozen=True)
class NoProxy:
    """A parsed ``NO_PROXY`` value."""

    entries: tuple[_Entry, ...] = ()
    everything: bool = False

    @classmethod
    def parse(cls, value: str) -> NoProxy:
        entries: list[_Entry] = []
        for item in _SEPARATORS.split(value.strip().lower()):
            if item == "*":
                return cls(everything=True)
            if item:
                entries.append(_entry(item))
        return cls(tuple(entries))

    def bypass(self, host: str, port: int | None) -> bool:
        """True when a connection to ``host:port`` goes direct."""
        if self.everything:
            return True
        host = host.lower().strip("[]").rstrip(".")
        address = _address(host)
        return any(_matches(entry, host, address, port) for entry in self.entries)


def _entry(item: str) -> _Entry:
    port: int | None = None
    host = item
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        port = _port(rest.removeprefix(":"))
    elif item.count(":") == 1:
        host, _, text = item.partition(":")
        port = _port(text)
    try:
        return _Entry(network=ipaddress.ip_network(host, strict=False), port=port)
    except ValueError:
        return _Entry(domain=host.lstrip(".").rstrip("."), port=port)


def _port(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _matches(
    entry: _Entry,
    host: str,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
    port: int | None,
) -> bool:
    if entry.port is not None and entry.port != port:
        return False
    if entry.network is not None:
        return address is not None and address in entry.network
    if address is not None:
        return False
    return host == entry.domain or host.endswith("." + entry.domain)
