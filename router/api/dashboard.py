"""The dashboard: static HTML, JS and CSS shipped in the package (router/dashboard/).

The page itself holds no data, so it is served to whoever the management guard's
address rule admits (loopback, or anyone with ``management.allow-remote``); every
number it shows comes from the guarded JSON routes (/v1/management/*, health details
from /v1/management/health), which it calls with the management secret when one is set
(the page asks for it and keeps it in the tab's sessionStorage).
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from router.errors import ErrorKind, ProxyError
from router.management.guard import is_loopback_address
from router.state import STATE

_FILES = {
    "index.html": "text/html",
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
}
# frame-ancestors: no other page may frame the dashboard (its buttons revoke keys).
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)
DASHBOARD_PATHS = frozenset({"/dashboard", "/dashboard/", *(f"/dashboard/{f}" for f in _FILES)})


def add_dashboard_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard_file)
    app.router.add_get("/dashboard/{name}", dashboard_file)


async def dashboard_file(request: web.Request) -> web.Response:
    management = request.app[STATE].management
    if not management.config.allow_remote and not is_loopback_address(request.remote):
        raise ProxyError(
            403,
            "the dashboard answers clients on this machine only; to allow others set "
            "management.secret and management.allow-remote: true in config.yaml",
            ErrorKind.PERMISSION,
        )
    name = request.match_info.get("name") or "index.html"
    if name not in _FILES:
        raise ProxyError(404, f"no dashboard file {name!r}", ErrorKind.NOT_FOUND)
    body = resources.files("router.dashboard").joinpath(name).read_bytes()
    return web.Response(
        body=body,
        content_type=_FILES[name],
        charset="utf-8",
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": _CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )
