"""Parsing and checking of ``public-hosts`` and ``cors-origins`` (the request-origin policy).

An origin is ``scheme://host[:port]`` compared in its normal form (lower case, default port
dropped). A ``cors-origins`` entry may start its host with ``*.`` to match any subdomain.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from router.config.binder import Problems, join

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$"
)
_WILDCARD = "*."


def normal_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in normal form, or None when ``value`` is not an origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def host_name(value: str) -> str:
    """The host part of a Host header or host entry: lower case, no port, no trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def check_public_hosts(hosts: tuple[str, ...], problems: Problems) -> None:
    for i, entry in enumerate(hosts):
        name = host_name(entry)
        if entry.strip().lower().rstrip(".") != name or not _is_host(name):
            problems.add(
                join("public-hosts", i),
                f"expected a host name or IP address like cliproxy.lan (no scheme, port or "
                f"path), got {entry!r}",
            )


def check_cors_origins(origins: tuple[str, ...], problems: Problems) -> None:
    for i, entry in enumerate(origins):
        where = join("cors-origins", i)
        if entry.strip() in ("*", "null"):
            problems.add(
                where,
                f"{entry.strip()!r} is not allowed: it would let any web page (or any "
                "sandboxed one) use cliproxy; list each origin, e.g. https://app.example.com",
            )
        elif normal_origin(entry.replace(_WILDCARD, "", 1)) is None:
            problems.add(
                where,
                f"expected an origin like https://app.example.com or http://localhost:3000 "
                f"(scheme, host and optional port; no path), got {entry!r}",
            )


def _is_host(name: str) -> bool:
    if name.startswith("[") and name.endswith("]"):
        return ":" in name
    return bool(_HOST_NAME.match(name))


def split_wildcard(entry: str) -> tuple[str, str] | None:
    """For ``scheme://*.example.com[:port]``: (``scheme://``, ``.example.com[:port]``)."""
    scheme, sep, rest = entry.strip().partition("://")
    if not sep or not rest.startswith(_WILDCARD):
        return None
    normal = normal_origin(f"{scheme}://{rest[len(_WILDCARD) :]}")
    if normal is None:
        return None
    prefix, _, host = normal.partition("://")
    return prefix + "://", "." + host
