"""POST /v1/responses (OpenAI Responses)."""

from __future__ import annotations

from aiohttp import web

from router.api.body import read_json
from router.context import context
from router.errors import bad_request
from router.formats import Format
from router.generation.pipeline import Generation, proxy_generation


async def responses(request: web.Request) -> web.StreamResponse:
    runtime = context(request).runtime
    body, raw = await read_json(request, runtime.body_limit)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required and must be a non-empty string", "model")
    if "input" not in body:
        raise bad_request("'input' is required", "input")
    gen = Generation(
        Format.OPENAI_RESPONSES,
        body,
        model,
        bool(body.get("stream")),
        client_headers=request.headers,
        raw=raw,
    )
    return await proxy_generation(request, runtime, gen)
