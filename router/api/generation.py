"""The shared path of every generation request: resolve, fail over, answer.

A handler decodes what is specific to its API (model, stream flag), then calls
``proxy_generation``. When the chosen upstream speaks the client's format the request takes
the passthrough path; otherwise it is translated (router/formats).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from router.api.passthrough import OpenAIChatPassthrough, usage_fields
from router.context import context
from router.errors import ErrorKind, ProxyError
from router.routing.failover import Opened
from router.routing.selector import Candidate
from router.runtime import Runtime
from router.state import STATE
from router.streaming import forward_stream
from router.upstreams.base import UpstreamCall


def unknown_model(model: str) -> ProxyError:
    return ProxyError(
        404,
        f"model {model!r} is not configured: add it to a provider's 'models' list or to a "
        "'routes' entry in config.yaml (GET /v1/models lists the models available)",
        ErrorKind.NOT_FOUND,
        param="model",
    )


async def proxy_generation(
    request: web.Request, runtime: Runtime, *, client_format: str, body: dict[str, Any]
) -> web.StreamResponse:
    model = body["model"]
    stream = bool(body.get("stream"))
    ctx = context(request)
    fields = ctx.log
    fields.update(model=model, stream=stream)
    targets = runtime.table.resolve(model)
    if not targets:
        raise unknown_model(model)
    request_id = ctx.request_id

    def build_call(candidate: Candidate) -> UpstreamCall:
        if candidate.upstream.wire_format != client_format:
            raise ProxyError(
                400,
                f"provider {candidate.upstream.name} speaks {candidate.upstream.wire_format}; "
                f"translation from {client_format} is not available",
                ErrorKind.INVALID_REQUEST,
            )
        outgoing = {**body, "model": candidate.model}
        return UpstreamCall(
            credential=candidate.credential,
            model=candidate.model,
            body=json.dumps(outgoing).encode(),
            stream=stream,
            request_id=request_id,
        )

    opened = await runtime.failover.open(targets, build_call, stream=stream, request_id=request_id)
    _note_upstream(request, opened)
    if opened.reply.status >= 300:
        return _upstream_error(opened)
    if not stream:
        fields.update(usage_fields(opened.payload))
        return web.Response(body=opened.body, content_type="application/json")
    transform = OpenAIChatPassthrough(client_format)
    state = request.app[STATE]
    response, outcome = await forward_stream(
        request,
        opened,
        transform,
        keepalive=state.runtime.config.streaming.keepalive_interval,
        headers={"X-Request-Id": request_id},
    )
    fields.update(transform.usage)
    fields.update(chunks=outcome.chunks, stream_error=outcome.error)
    if outcome.client_gone:
        fields["client_gone"] = True
    return response


def _note_upstream(request: web.Request, opened: Opened) -> None:
    ctx = context(request)
    ctx.log.update(
        provider=opened.candidate.upstream.name,
        credential=opened.candidate.credential.name,
        upstream_model=opened.candidate.model,
        attempts=opened.attempts,
        upstream_status=opened.reply.status,
        ttfb_ms=round((opened.first_byte_at - ctx.started) * 1000, 1),
    )


def _upstream_error(opened: Opened) -> web.Response:
    """A non-retryable upstream error (a 4xx about the request itself), passed on."""
    try:
        json.loads(opened.body)
        body = opened.body
    except ValueError:
        error = ProxyError(
            opened.reply.status,
            f"upstream {opened.candidate.upstream.name} rejected the request: "
            + opened.body[:500].decode("utf-8", "replace"),
            ErrorKind.INVALID_REQUEST,
        )
        body = json.dumps(
            {
                "error": {
                    "message": error.message,
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
        ).encode()
    return web.Response(status=opened.reply.status, body=body, content_type="application/json")
