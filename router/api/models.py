"""GET /v1/models and /v1/models/{model}: every model the config can serve, aliases included,
with the catalog's names for logged-in subscriptions and the targets of routing rules.

The answer takes the caller's shape: Anthropic's with an ``anthropic-version`` header,
Gemini's for google-genai (which lists models at /v1/models and sends ``x-goog-*``
headers), else OpenAI's."""

from __future__ import annotations

from aiohttp import web

from router.api import gemini
from router.generation.pipeline import unknown_model
from router.routing.catalog import catalog
from router.state import STATE

_GEMINI_HEADERS = ("x-goog-api-key", "x-goog-api-client")


def _wants_gemini(request: web.Request) -> bool:
    headers = request.headers
    return "anthropic-version" not in headers and any(name in headers for name in _GEMINI_HEADERS)


async def get_model(request: web.Request) -> web.Response:
    """GET /v1/models/{model}: Gemini's model resource for google-genai, else OpenAI's."""
    if _wants_gemini(request):
        return await gemini.get_model(request)
    model = request.match_info["target"]
    targets = request.app[STATE].runtime.table.resolve(model)
    if not targets:
        raise unknown_model(model)
    owner = targets[0].upstream.name
    created = int(request.app[STATE].started_at)
    return web.json_response(
        {"id": model, "object": "model", "created": created, "owned_by": owner}
    )


def _limits(model: str) -> dict[str, int]:
    """Context window and longest answer, where the catalog knows them (OpenAI's list
    shape has no such fields; clients that read them, such as opencode, use these names)."""
    known = catalog().get(model)
    if known is None:
        return {}
    limits = {"context_window": known.context_window, "max_output_tokens": known.max_output}
    return {k: v for k, v in limits.items() if v is not None}


async def list_models(request: web.Request) -> web.Response:
    if _wants_gemini(request):
        return await gemini.list_models(request)
    runtime = request.app[STATE].runtime
    models = runtime.table.model_ids(runtime.rules.targets())
    created = int(request.app[STATE].started_at)
    if "anthropic-version" in request.headers:
        data = [
            {
                "type": "model",
                "id": model,
                "display_name": model,
                "created_at": "1970-01-01T00:00:00Z",
            }
            for model, _ in models
        ]
        return web.json_response(
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        )
    return web.json_response(
        {
            "object": "list",
            "data": [
                {
                    "id": model,
                    "object": "model",
                    "created": created,
                    "owned_by": provider,
                    **_limits(model),
                }
                for model, provider in models
            ],
        }
    )
