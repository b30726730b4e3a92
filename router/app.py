"""Builds the aiohttp application: the routes clients call and the middleware they pass."""

from __future__ import annotations

from aiohttp import web

from router.api.chat_completions import chat_completions
from router.api.health import health
from router.api.models import list_models
from router.middleware import request_context
from router.state import STATE, RouterState


def create_app(state: RouterState) -> web.Application:
    app = web.Application(middlewares=[request_context])
    app[STATE] = state
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/health", health)

    async def close_state(_: web.Application) -> None:
        await state.close()

    app.on_cleanup.append(close_state)
    return app
