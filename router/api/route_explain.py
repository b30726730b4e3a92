"""``POST /v1/management/route/explain``: the routing decision for a request body, made by
the running router with what only it knows: which credentials are cooling down now (and
until when), the sticky sessions, and the config it runs with. Nothing is sent upstream.

``cliproxy route explain`` asks this route when a router runs. Query: ``format`` (else
guessed from the body), ``model`` (else the body's), ``key`` (a client key name rules may
match), ``header=NAME:VALUE`` (repeatable).
"""

from __future__ import annotations

from aiohttp import web

from router.api.body import read_json_object
from router.errors import bad_request
from router.formats import Format
from router.routing.explain import guess_format
from router.state import STATE


async def route_explain(request: web.Request) -> web.Response:
    runtime = request.app[STATE].runtime
    body = await read_json_object(request, runtime.body_limit)
    query = request.query
    try:
        fmt = Format(query["format"]) if query.get("format") else guess_format(body)
    except ValueError:
        formats = ", ".join(f.value for f in Format)
        raise bad_request(f"format: expected one of {formats}", "format") from None
    model = query.get("model") or body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("the body names no model; pass ?model=", "model")
    headers: dict[str, str] = {}
    for item in query.getall("header", []):
        name, sep, value = item.partition(":")
        if not sep:
            raise bad_request(f"header {item!r}: expected NAME:VALUE", "header")
        headers[name.strip()] = value.strip()
    result = runtime.explain(fmt, model, body, headers=headers, client_key=query.get("key") or None)
    return web.json_response(result)
