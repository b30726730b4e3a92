"""Connections that leave the router: every outbound ``aiohttp.ClientSession`` is made by
``client_session``, so a configured ``proxy-url`` and ``NO_PROXY`` apply to all of them.

The proxy is chosen when the session (its connector) is made, and ``no-proxy`` (config,
plus the environment's NO_PROXY) is checked once per new connection, never per request.
"""

from router.outbound.connector import ProxyUnreachable, client_session, make_connector
from router.outbound.noproxy import NoProxy

__all__ = ["NoProxy", "ProxyUnreachable", "client_session", "make_connector"]
