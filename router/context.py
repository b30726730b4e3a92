"""Per-request facts every layer may read or add to: id, start time, log line fields."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class RequestContext:
    request_id: str = field(default_factory=lambda: secrets.token_hex(8))
    started: float = field(default_factory=time.monotonic)
    log: dict[str, object] = field(default_factory=dict)


CONTEXT: web.RequestKey[RequestContext] = web.RequestKey("context", RequestContext)


def context(request: web.Request) -> RequestContext:
    return request[CONTEXT]
