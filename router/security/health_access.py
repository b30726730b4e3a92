"""Who sees the details of ``GET /v1/health`` (accounts, e-mails, expiries, cooldowns).

Anyone gets the status. Details need one of:
- a client key or the relay key, sent the way clients send keys (``Authorization: Bearer``,
  ``x-api-key``, ``x-goog-api-key``, ``?key=``); the relay key lives in auth-dir, so local
  tools that can read it (scripts/status.sh) see details with no key configured;
- the management secret as ``X-Management-Key``, checked by the management guard with its
  lockout (a wrong one is that guard's 401/429, so health is no way around it).

Any other key gets the public view: health checks that send a placeholder key keep working.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from router.clientauth import presented_key
from router.context import CONTEXT
from router.state import STATE

DETAILS_HINT = (
    "details hidden: send a client key or the relay key (Authorization: Bearer), or the "
    "management secret (X-Management-Key)"
)


async def may_see_details(request: web.Request) -> bool:
    """True when the caller proved a credential; raises the guard's error for a bad secret."""
    state = request.app[STATE]
    if "X-Management-Key" in request.headers and state.management.secret is not None:
        await state.management.check(request)
        return True
    presented = presented_key(request)
    if not presented:
        return False
    runtime = request[CONTEXT].runtime
    relay_key = runtime.config.aistudio.relay_key
    if relay_key and hmac.compare_digest(presented.encode(), relay_key.encode()):
        return True
    return runtime.client_keys.identify(presented) is not None
