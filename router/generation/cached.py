"""Which generation requests the response cache serves, and what it says about them.

Only requests resolved through a route with ``cache`` are looked at; every other request
pays nothing. Of those, a request is answered fresh (``cache=skip(reason)`` on the log
line) when it samples or waits on tool results, unless the route allows it
(router/routing/response_cache.py ``skip_reason``). The rest are looked up (``hit`` or
``miss``, also in the ``X-Cliproxy-Cache`` response header) and a miss whose answer
turned out whole is stored (``store``; else ``cache_unstored=`` says why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from router.formats import Request
from router.routing.failover import Opened
from router.routing.plan import RoutePlan
from router.routing.response_cache import CacheSession, ResponseCache, skip_reason

CACHE_HEADER = "X-Cliproxy-Cache"


def open_session(
    cache: ResponseCache | None,
    plan: RoutePlan,
    decode: Callable[[], Request],
    log: dict[str, Any],
) -> CacheSession | None:
    """The request's cache session, or None when its route keeps no answers or the
    request may not use them (``decode``: the request's lazy IR)."""
    config = plan.targets[0].cache
    if config is None or cache is None:
        return None
    reason = skip_reason(decode, config)
    if reason is not None:
        log["cache"] = f"skip({reason})"
        return None
    log["cache"] = "miss"  # until a candidate's lookup hits
    return CacheSession(cache, config)


def looked_up(session: CacheSession, log: dict[str, Any]) -> dict[str, str]:
    """Notes a lookup's result on the log line; the response header that tells the client."""
    result = "hit" if session.hit else "miss"
    log["cache"] = result
    return {CACHE_HEADER: result}


def finished(
    session: CacheSession, opened: Opened, log: dict[str, Any], whole: bool, why: str = ""
) -> None:
    """After a miss was answered: store it when ``whole`` (else ``why`` names the fault)."""
    if session.hit:
        return
    result = session.store(opened) if whole else why
    if result == "store":
        log["cache"] = "store"
    else:
        log["cache_unstored"] = result
