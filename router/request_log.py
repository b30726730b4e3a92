"""The one log line of every HTTP request, written the same way by the router and the
sidecars (router/middleware.py, providers/webai/http_server.py): request id, method, path,
status, latency, then the caller's own fields, in router.logs' key=value dialect."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from router.logs import log_mapping

# The status a request is logged with when its client left before the answer was sent.
CLIENT_CLOSED = 499


def log_request(
    logger: logging.Logger,
    request: web.Request,
    request_id: str,
    status: int,
    started: float,
    fields: Mapping[str, Any],
    *,
    event: str | None = None,
    latency_digits: int | None = 1,
) -> None:
    """``started``: ``time.monotonic()`` when the request arrived. ``event``: the line's
    kind, written first, where a process writes lines of other kinds too (the sidecars).
    ``latency_digits``: decimals of latency_ms (None: whole milliseconds)."""
    line: dict[str, Any] = {"event": event} if event is not None else {}
    line["request_id"] = request_id
    line["method"] = request.method
    line["path"] = request.path
    line["status"] = status
    line["latency_ms"] = round((time.monotonic() - started) * 1000, latency_digits)
    line.update(fields)
    log_mapping(logger, logging.INFO, line)
