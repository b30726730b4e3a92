"""GET /v1/health: router status and, per provider, whether it can serve right now.

Without credentials only the status is shown; the details need a client key, the relay key
or the management secret (router/security/health_access.py). Never shows a secret:
credentials appear by name only, subscription accounts by label, expiry and state. A
subscription nobody has logged in to is ``not_logged_in`` (with the command that fixes it
in ``reason``) and does not make the router degraded.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from router import __version__
from router.security.health_access import DETAILS_HINT, may_see_details
from router.state import STATE, RouterState


async def health(request: web.Request) -> web.Response:
    details = await may_see_details(request)
    document = await health_document(request.app[STATE])
    if not details:
        return web.json_response({"status": document["status"], "details": DETAILS_HINT})
    return web.json_response(document)


async def health_document(state: RouterState) -> dict[str, Any]:
    runtime = state.runtime
    providers: dict[str, dict[str, Any]] = {}
    degraded = False
    for upstream in runtime.upstreams:
        cooling = state.cooldowns.active(upstream.name)
        credentials = [c.name for c in upstream.credentials]
        cooling_all = bool(credentials) and {c["credential"] for c in cooling} >= set(credentials)
        accounts = upstream.accounts() if upstream.login_based else []
        if upstream.login_based and not accounts:
            status = "not_logged_in"
        elif upstream.unconfigured_reason:
            status = "login_required" if upstream.login_based else "unconfigured"
        elif cooling_all:
            status = "cooling_down"
        else:
            status = "healthy"
        degraded = degraded or status not in ("healthy", "not_logged_in")
        providers[upstream.name] = {
            "kind": upstream.kind,
            "configured": upstream.unconfigured_reason is None,
            "status": status,
            "reason": upstream.unconfigured_reason,
            "credentials": credentials,
            "cooldowns": cooling,
            "active_requests": upstream.active_requests(),
        }
        if upstream.login_based:
            providers[upstream.name]["accounts"] = accounts
    webai = await runtime.webai.probe() if runtime.webai else {"status": "disabled"}
    degraded = degraded or webai["status"] == "down"
    if webai["status"] == "down" and isinstance(providers.get("webai"), dict):
        # One truth: the provider cannot serve while its sidecar does not answer.
        providers["webai"].update(status="down", reason=webai.get("reason"))
    aistudio = await aistudio_health(state)
    degraded = degraded or aistudio.get("service", {}).get("status") == "down"
    return {
        "status": "degraded" if degraded else "ok",
        "version": __version__,
        "uptime_s": round(time.time() - state.started_at, 1),
        "providers": providers,
        "upstream_connections": sum(u.active_requests() for u in runtime.upstreams)
        + runtime.aistudio.active_requests(),
        "services": {"webai": webai, "aistudio": aistudio},
        "workers": workers_health(state),
    }


def workers_health(state: RouterState) -> dict[str, Any]:
    """Every worker process serving the port: pid, uptime, memory, relay sessions held."""
    # One process publishes nothing: it describes itself.
    documents = state.shared.documents() or {0: state.worker_document()}
    now = time.time()
    listed = [
        {
            "worker": index,
            "pid": document["pid"],
            "uptime_s": round(now - document["started_at"], 1),
            "rss_mb": document["rss_mb"],
            "relay_sessions": [s["name"] for s in document.get("relay_sessions", ())],
        }
        for index, document in sorted(documents.items())
    ]
    expected = state.role.count if state.role is not None else 1
    return {
        "count": expected,
        "running": len(listed),
        "answered_by": state.shared.worker,
        "list": listed,
    }


async def aistudio_health(state: RouterState) -> dict[str, Any]:
    """Relay sessions as the hub sees them; the service's own /health when it is enabled.

    The relay works without the service (the Build applet connects on its own), so no
    session is not in itself degraded; an enabled service that does not answer is.
    """
    upstream = state.runtime.aistudio
    sessions = state.relays.sessions()
    errors = [s["last_error"] for s in sessions if s.get("last_error")]
    info: dict[str, Any] = {
        "status": "connected" if sessions else "no_session",
        "configured": upstream.unconfigured_reason is None,
        "reason": upstream.unconfigured_reason,
        "sessions_connected": len(sessions),
        "sessions": sessions,
        "last_error": errors[-1] if errors else None,
        "cooldowns": state.cooldowns.active(upstream.name),
        "active_requests": upstream.active_requests(),
    }
    if upstream.control.enabled:
        info["service"] = await upstream.control.probe()
    else:
        info["service"] = {"status": "disabled"}
    return info
