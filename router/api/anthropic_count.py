"""POST /v1/messages/count_tokens (Anthropic)."""

from __future__ import annotations

from aiohttp import web

from router.api.body import read_json_object
from router.api.count_tokens import count_tokens
from router.context import context
from router.errors import bad_request
from router.formats import Format


async def messages_count_tokens(request: web.Request) -> web.Response:
    runtime = context(request).runtime
    body = await read_json_object(request, runtime.body_limit)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("model: field required (a non-empty string)", "model")
    if not isinstance(body.get("messages"), list):
        raise bad_request("messages: field required (a list)", "messages")
    tokens = await count_tokens(request, runtime, Format.ANTHROPIC, body, model)
    return web.json_response({"input_tokens": tokens})
