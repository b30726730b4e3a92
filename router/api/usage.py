"""Metrics and usage routes.

- ``GET /metrics``: Prometheus text format; guarded like management unless
  ``metrics.public``.
- ``GET /v1/management/usage``: ledger totals, ``?group=key,model,provider,day,operation``
  (any, comma-separated), ``?from=&to=`` (epoch seconds, YYYY-MM-DD or ISO 8601, UTC;
  ``to`` is exclusive), ``?operation=generate|count_tokens|all`` (generation by default:
  a token count's tokens were counted, not used), ``?format=csv`` for a CSV download.
- ``GET /v1/management/usage/recent?limit=50``: the latest requests, newest first.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from router.api.dashboard import DASHBOARD_PATHS
from router.errors import ErrorKind, ProxyError, bad_request
from router.state import STATE, RouterState
from router.usage.ledger import Ledger
from router.usage.merge import merge_expositions
from router.usage.query import as_csv, parse_query, recent_rows, usage_rows

# Paths that check the management guard in their handler instead of a client key.
SELF_GUARDED_PATHS = frozenset({"/metrics", *DASHBOARD_PATHS})
_RECENT_MAX = 1000


def add_usage_routes(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/v1/management/usage", usage)
    app.router.add_get("/v1/management/usage/recent", recent)


async def metrics(request: web.Request) -> web.Response:
    state = request.app[STATE]
    config = state.runtime.config.metrics
    if not config.enabled:
        raise ProxyError(404, "metrics are off (metrics.enabled: false)", ErrorKind.NOT_FOUND)
    if not config.public:
        await state.management.check(request)
    await state.usage.collector.probe_sidecars()
    state.usage.drain()
    body = generate_latest(state.usage.registry)
    if state.peers is not None:
        body = await _all_workers(state, body)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _all_workers(state: RouterState, own: bytes) -> bytes:
    """This worker's metrics added up with every other live worker's."""
    assert state.peers is not None
    others = [w for w in state.shared.documents() if w != state.shared.worker]
    texts = await asyncio.gather(*(state.peers.text(w, "/internal/metrics") for w in others))
    return merge_expositions([own.decode(), *(t for t in texts if t is not None)])


async def _ledger(state: RouterState) -> Ledger:
    """The ledger with every row so far committed, so answers include the last request."""
    ledger = state.usage.ledger
    if ledger is None:
        raise ProxyError(404, "the usage ledger is off (usage.enabled: false)", ErrorKind.NOT_FOUND)
    state.usage.drain()
    await asyncio.to_thread(ledger.flush)
    return ledger


async def usage(request: web.Request) -> web.Response:
    query = parse_query(dict(request.query))
    output = request.query.get("format", "json")
    if output not in ("json", "csv"):
        raise bad_request(f"format: expected json or csv, got {output!r}", "format")
    ledger = await _ledger(request.app[STATE])
    rows = await asyncio.to_thread(usage_rows, ledger.path, query)
    if output == "csv":
        return web.Response(
            text=as_csv(rows),
            content_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="usage.csv"'},
        )
    return web.json_response(
        {"group": list(query.groups), "from": query.since, "to": query.until, "rows": rows},
        dumps=json.dumps,
    )


async def recent(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "50")
    if not raw.isdigit() or not 0 < int(raw) <= _RECENT_MAX:
        raise bad_request(f"limit: expected an integer 1-{_RECENT_MAX}, got {raw!r}", "limit")
    ledger = await _ledger(request.app[STATE])
    rows = await asyncio.to_thread(recent_rows, ledger.path, int(raw))
    return web.json_response({"requests": rows})
