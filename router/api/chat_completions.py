"""POST /v1/chat/completions (OpenAI Chat Completions)."""

from __future__ import annotations

from aiohttp import web

from router.api.body import read_json
from router.context import context
from router.errors import bad_request
from router.formats import Format
from router.generation.pipeline import Generation, proxy_generation


async def chat_completions(request: web.Request) -> web.StreamResponse:
    runtime = context(request).runtime
    body, raw = await read_json(request, runtime.body_limit)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required and must be a non-empty string", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' is required and must be a non-empty list", "messages")
    gen = Generation(Format.OPENAI_CHAT, body, model, bool(body.get("stream")), raw=raw)
    return await proxy_generation(request, runtime, gen)
