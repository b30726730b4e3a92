"""Outbound proxy URLs (``proxy-url``): which are valid, which one applies, and how one is
shown without its secret.

A proxy URL is ``scheme://[user:password@]host:port`` with scheme http, https (TLS to the
proxy), socks5 (names resolved here) or socks5h (names resolved by the proxy). ``direct``
turns off a proxy set at a wider level. Credentials in a proxy URL never leave this
module in the clear: every message and log line uses ``redact``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import SplitResult, unquote, urlsplit

from router.config.binder import Problems

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
DIRECT = "direct"


def redact(url: str) -> str:
    """``url`` with any user and password replaced by ``***``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"***@{host}").geturl()


def proxy_secrets(url: str) -> tuple[str, ...]:
    """What of ``url`` must be hidden wherever text may quote it: the URL itself and its
    password (as written and percent-decoded); nothing for a URL without a password."""
    password = urlsplit(url).password if url else None
    if not password:
        return ()
    return (url, password, unquote(password))


def check_proxy_url(url: str, path: str, problems: Problems) -> None:
    """Records why ``url`` is not a usable proxy URL (without repeating its secret)."""
    if not url or url == DIRECT:
        return
    expected = f"expected {DIRECT!r} or scheme://[user:password@]host:port with scheme " + (
        ", ".join(PROXY_SCHEMES)
    )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        problems.add(path, f"{expected}; the port of {redact(url)!r} is not a number")
        return
    problem = _problem(parts, port)
    if problem:
        problems.add(path, f"{expected}; {problem} in {redact(url)!r}")


def _problem(parts: SplitResult, port: int | None) -> str:
    if parts.scheme not in PROXY_SCHEMES:
        return f"the scheme {parts.scheme!r} is not supported" if parts.scheme else "no scheme"
    if not parts.hostname:
        return "no host"
    if port is None:
        return "no port"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "a path or query"
    return ""


@dataclass(frozen=True)
class ProxySetting:
    """The outbound proxy one section's sessions use ("" for none) and the destinations
    reached directly anyway (``no-proxy``, NO_PROXY's syntax)."""

    url: str = field(default="", repr=False)
    no_proxy: str = ""


# No proxy at all: the default of every session that is given none.
DIRECT_CONNECTION = ProxySetting()


def effective_proxy(*levels: str) -> str:
    """The proxy URL that applies: the narrowest level set wins, ``direct`` means none."""
    for level in levels:
        if level:
            return "" if level == DIRECT else level
    return ""
