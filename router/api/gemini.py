"""Gemini API: ``models/{model}:generateContent``, ``:streamGenerateContent`` (with and
without ``alt=sse``), ``:countTokens``, and the model list, under /v1beta (and /v1, which
newer google-genai releases call)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from router.api.body import read_json
from router.api.count_tokens import count_tokens
from router.context import context
from router.errors import ErrorKind, ProxyError
from router.formats import Format
from router.generation.pipeline import Generation, proxy_generation, unknown_model
from router.routing.catalog import catalog

_GENERATE = "generateContent"
_STREAM = "streamGenerateContent"
_COUNT = "countTokens"


async def model_action(request: web.Request) -> web.StreamResponse:
    model, _, action = request.match_info["target"].partition(":")
    if action not in (_GENERATE, _STREAM, _COUNT):
        raise ProxyError(
            404,
            f"unknown method {action!r}: expected {_GENERATE}, {_STREAM} or {_COUNT}",
            ErrorKind.NOT_FOUND,
        )
    runtime = context(request).runtime
    body, raw = await read_json(request, runtime.body_limit)
    if action == _COUNT:
        inner = body.get("generateContentRequest")
        content = inner if isinstance(inner, dict) else body
        tokens = await count_tokens(request, runtime, Format.GEMINI, content, model)
        return web.json_response({"totalTokens": tokens})
    stream = action == _STREAM
    sse = request.query.get("alt") == "sse"
    gen = Generation(Format.GEMINI, body, model, stream, sse=sse or not stream, raw=raw)
    return await proxy_generation(request, runtime, gen)


def _model_entry(model: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"models/{model}",
        "baseModelId": model,
        "version": "001",
        "displayName": model,
        "description": f"{model} served by cliproxy",
        "supportedGenerationMethods": [_GENERATE, _STREAM, _COUNT],
    }
    known = catalog().get(model)
    if known is not None and known.context_window:
        entry["inputTokenLimit"] = known.context_window
    if known is not None and known.max_output:
        entry["outputTokenLimit"] = known.max_output
    return entry


async def list_models(request: web.Request) -> web.Response:
    runtime = context(request).runtime
    models = runtime.table.model_ids(runtime.rules.targets())
    return web.json_response({"models": [_model_entry(model) for model, _ in models]})


async def get_model(request: web.Request) -> web.Response:
    model = request.match_info["target"].removeprefix("models/")
    if not context(request).runtime.table.resolve(model):
        raise unknown_model(model)
    return web.json_response(_model_entry(model))
