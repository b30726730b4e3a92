"""Management routes besides logins: /v1/management/...

- ``GET /v1/management/health``: the detailed health document (what ``/v1/health`` shows
  a key holder), for the dashboard and other management tools.
- ``GET /v1/management/cooldowns``: every credential resting now, per provider.
- ``POST /v1/management/cooldowns/reset``: end them (``?provider=`` and ``?credential=``
  narrow it down); answers how many were cleared.
- ``POST /v1/management/route/explain``: the routing decision for a request body, with the
  live cooldowns and sticky sessions (router/api/route_explain.py).
"""

from __future__ import annotations

from aiohttp import web

from router.api.health import health_document
from router.api.route_explain import route_explain
from router.state import STATE


def add_management_routes(app: web.Application) -> None:
    app.router.add_get("/v1/management/health", detailed_health)
    app.router.add_get("/v1/management/cooldowns", cooldowns)
    app.router.add_post("/v1/management/cooldowns/reset", reset_cooldowns)
    app.router.add_post("/v1/management/route/explain", route_explain)


async def detailed_health(request: web.Request) -> web.Response:
    return web.json_response(await health_document(request.app[STATE]))


async def cooldowns(request: web.Request) -> web.Response:
    state = request.app[STATE]
    names = [u.name for u in state.runtime.upstreams] + [state.runtime.aistudio.name]
    return web.json_response(
        {"cooldowns": {name: active for name in names if (active := state.cooldowns.active(name))}}
    )


async def reset_cooldowns(request: web.Request) -> web.Response:
    state = request.app[STATE]
    provider = request.query.get("provider") or None
    credential = request.query.get("credential") or None
    cleared = state.cooldowns.reset(provider, credential)
    return web.json_response({"cleared": cleared, "provider": provider, "credential": credential})
