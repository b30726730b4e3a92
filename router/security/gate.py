"""Screens every request against the origin policy before anything else looks at it.

Browsers mark what they send: an ``Origin`` header on every cross-origin request (and on
every POST), ``Sec-Fetch-Site`` on everything. SDKs, CLIs and curl send neither and pass
untouched. Refusals raise ProxyError, so the caller gets its own API format:

- a Host that is not this router's: 421 Misdirected Request (RFC 9110: this server will
  not answer for that authority; no SDK retries it). It is what DNS rebinding sends.
- an Origin that is neither this router's own (a page it served, the dashboard) nor in
  ``cors-origins``: 403, with no CORS headers, before the handler runs
  (a "simple" cross-site request would otherwise still take effect unread).
- a browser request without Origin but marked cross-site or same-site: 403 when it
  changes state (old browsers omitted Origin on form posts) or is a management/login
  route loaded as a subresource (an <img> pointed at a login route); navigations pass.
- a state-changing request to a route that is not a generation call (management, logins)
  from a web page that did not need a preflight (form or text/plain content type, no
  custom header): 403, even from an allowed origin.

An allowed origin's preflight (OPTIONS) is answered here; its other answers get CORS
headers when they are prepared (``add_cors_headers``, streams included).
"""

from __future__ import annotations

import re

from aiohttp import hdrs, web

from router.api.client_format import strip_amp_prefix
from router.context import CONTEXT
from router.errors import ErrorKind, ProxyError
from router.management.guard import is_management_path
from router.security.origin import OriginPolicy

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIMPLE_CONTENT_TYPES = frozenset(
    {"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
GENERATION_PATHS = frozenset(
    {"/v1/chat/completions", "/v1/responses", "/v1/messages", "/v1/messages/count_tokens"}
)
GENERATION_PREFIXES = ("/v1beta/models/", "/v1/models/")
ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
EXPOSED_HEADERS = (
    "X-Request-Id, Retry-After, X-Management-Notice, X-Cliproxy-Dropped, X-Cliproxy-Cache"
)
PREFLIGHT_MAX_AGE = "600"
_HEADER_LIST = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$")
_BROWSER_SITES = frozenset({"cross-site", "same-site"})

CORS_ORIGIN: web.RequestKey[str] = web.RequestKey("cors_origin", str)


def screen(request: web.Request, policy: OriginPolicy) -> web.Response | None:
    """Raise ProxyError for a refused request; answer an allowed preflight; else None."""
    host = request.headers.get(hdrs.HOST)
    if not policy.serves_host(host):
        raise _refused(
            request,
            "host",
            f"this router does not answer for the host name {(host or '')[:100]!r} (a web "
            "page using DNS rebinding sends such names); if it is one of this machine's "
            "names, add it to public-hosts in config.yaml",
            status=421,
        )
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        _check_unmarked_browser_request(request)
        return None
    if policy.is_same_origin(origin, host):
        return None
    if not policy.admits_origin(origin, request.path):
        raise _refused_origin(request, origin)
    request[CORS_ORIGIN] = origin
    if _is_preflight(request):
        return _preflight(request, origin)
    if changes_state(request) and _is_simple(request):
        raise _refused(
            request,
            "simple_request",
            f"{request.method} {request.path} changes state and refuses form or text/plain "
            "requests from web pages: send Content-Type: application/json",
        )
    return None


def _check_unmarked_browser_request(request: web.Request) -> None:
    """A browser request without Origin: cross-site ones may only navigate or read.

    Browsers send Origin on every POST, so this catches old browsers' form posts and
    no-cors GETs (an <img> pointed at a login route); a top-level navigation, such as an
    OAuth redirect landing on a callback route, still passes.
    """
    site = request.headers.get("Sec-Fetch-Site", "").lower()
    if site not in _BROWSER_SITES:
        return
    navigating = request.headers.get("Sec-Fetch-Mode", "").lower() == "navigate"
    if request.method in SAFE_METHODS and (navigating or not is_management_path(request.path)):
        return
    raise _refused(
        request,
        "cross_site",
        f"cross-site requests from web pages are refused (Sec-Fetch-Site: {site})",
    )


def changes_state(request: web.Request) -> bool:
    """A non-generation call with an unsafe method: management, logins, session changes."""
    if request.method in SAFE_METHODS:
        return False
    path = strip_amp_prefix(request.path)
    return path not in GENERATION_PATHS and not path.startswith(GENERATION_PREFIXES)


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer varies by Origin; allowed origins may read it."""
    response.headers.add(hdrs.VARY, "Origin")
    origin = request.get(CORS_ORIGIN)
    if origin is not None:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSED_HEADERS


def _refused_origin(request: web.Request, origin: str) -> ProxyError:
    if origin.strip().lower() == "null":
        message = "requests from sandboxed or local-file web pages (Origin: null) are refused"
    else:
        message = (
            f"requests from web pages are refused unless their origin is listed in "
            f"cors-origins in config.yaml; {origin[:100]!r} is not"
        )
    return _refused(request, "origin", message)


def _refused(request: web.Request, reason: str, message: str, status: int = 403) -> ProxyError:
    """The refusal, with its reason (a fixed word, never the header) on the request's log line."""
    request[CONTEXT].log["refused"] = reason
    return ProxyError(status, message, ErrorKind.PERMISSION)


def _is_preflight(request: web.Request) -> bool:
    return request.method == "OPTIONS" and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers


def _preflight(request: web.Request, origin: str) -> web.Response:
    headers: dict[str, str] = {
        hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin,
        hdrs.ACCESS_CONTROL_ALLOW_METHODS: ALLOWED_METHODS,
        hdrs.ACCESS_CONTROL_MAX_AGE: PREFLIGHT_MAX_AGE,
    }
    requested = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_HEADERS, "").strip()
    if requested and _HEADER_LIST.match(requested):
        headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = requested
    if request.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
        headers["Access-Control-Allow-Private-Network"] = "true"
    response = web.Response(status=204, headers=headers)
    response.headers.add(hdrs.VARY, "Access-Control-Request-Method, Access-Control-Request-Headers")
    return response


def _is_simple(request: web.Request) -> bool:
    """What a page can send cross-site without a preflight: no custom header, a form type."""
    for name in request.headers:
        if name.lower().startswith("x-") or name.lower() == "authorization":
            return False
    content_type = request.headers.get(hdrs.CONTENT_TYPE, "").partition(";")[0]
    return content_type.strip().lower() in SIMPLE_CONTENT_TYPES
