"""Per-request facts every layer may read or add to: id, start time, log line fields."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from router.runtime import Runtime
    from router.usage.keys import IssuedKey


@dataclass
class RequestContext:
    """``runtime`` is the config the request started with, kept for its whole life even
    when a reload swaps in a new one."""

    runtime: Runtime
    request_id: str = field(default_factory=lambda: secrets.token_hex(8))
    started: float = field(default_factory=time.monotonic)
    log: dict[str, object] = field(default_factory=dict)
    # The cliproxy-issued client key the request presented, if any (router/usage/keys.py).
    client_key: IssuedKey | None = None


CONTEXT: web.RequestKey[RequestContext] = web.RequestKey("context", RequestContext)


def context(request: web.Request) -> RequestContext:
    return request[CONTEXT]
