"""Builds the aiohttp application: the routes clients call and the middleware they pass.

Every client API is served at its usual path and again under Amp CLI's
``/api/provider/<name>`` prefix; Amp's other backend routes are proxied (router/api/amp.py).
"""

from __future__ import annotations

from aiohttp import web

from router.api import gemini, models, relay_socket
from router.api.amp import add_amp_routes
from router.api.amp_actors import add_actor_routes
from router.api.anthropic_count import messages_count_tokens
from router.api.anthropic_messages import messages
from router.api.auth_aistudio import add_aistudio_routes
from router.api.auth_ctonew import add_ctonew_routes
from router.api.auth_oauth import add_oauth_routes
from router.api.chat_completions import chat_completions
from router.api.client_format import AMP_PREFIX
from router.api.dashboard import add_dashboard_routes
from router.api.health import health
from router.api.keys import add_key_routes
from router.api.management import add_management_routes
from router.api.responses import responses
from router.api.usage import add_usage_routes
from router.middleware import request_context
from router.security.gate import add_cors_headers
from router.state import STATE, RouterState


def add_client_routes(router: web.UrlDispatcher, prefix: str = "") -> None:
    router.add_post(prefix + "/v1/chat/completions", chat_completions)
    router.add_post(prefix + "/v1/responses", responses)
    router.add_post(prefix + "/v1/messages", messages)
    router.add_post(prefix + "/v1/messages/count_tokens", messages_count_tokens)
    router.add_get(prefix + "/v1/models", models.list_models)
    router.add_get(prefix + "/v1/models/{target}", models.get_model)
    for version in ("/v1beta", "/v1"):
        router.add_post(prefix + version + "/models/{target}", gemini.model_action)
    router.add_get(prefix + "/v1beta/models", gemini.list_models)
    router.add_get(prefix + "/v1beta/models/{target}", gemini.get_model)


def create_app(state: RouterState) -> web.Application:
    app = web.Application(middlewares=[request_context])
    app[STATE] = state
    add_client_routes(app.router)
    add_client_routes(app.router, AMP_PREFIX + "{provider}")
    app.router.add_get("/v1/health", health)
    app.router.add_get("/v1/ws", relay_socket.relay_socket)
    add_aistudio_routes(app)
    add_oauth_routes(app)
    add_ctonew_routes(app)
    add_management_routes(app)
    # Issue 14: metrics, usage ledger, client keys, dashboard.
    add_usage_routes(app)
    add_key_routes(app)
    add_dashboard_routes(app)
    add_amp_routes(app)
    add_actor_routes(app)

    async def close_relay(_: web.Application) -> None:
        """Close relay sockets before the server waits for running handlers to end."""
        await state.relay.close()

    async def close_state(_: web.Application) -> None:
        await state.close()

    app.on_response_prepare.append(add_cors_headers)
    app.on_shutdown.append(close_relay)
    app.on_cleanup.append(close_state)
    return app
