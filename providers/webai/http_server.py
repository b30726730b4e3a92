"""HTTP surface of the WebAI service: routes, shared-key auth, OpenAI error shape, SSE."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from providers.webai.cookie_manager import LoadedCookies, prepare_cookies_dir
from providers.webai.errors import (
    GenerationError,
    Redactor,
    WebAIConfigError,
    openai_error_body,
)
from providers.webai.gpt4free_client import (
    G4FBackend,
    ProviderStream,
    StreamDelta,
    resolve_providers,
)
from providers.webai.openai_shapes import (
    SSE_DONE,
    chat_completion,
    chat_completion_chunk,
    model_list,
    new_completion_id,
    sse_event,
)
from providers.webai.outcomes import ProviderOutcomes
from router.body_reader import loads_bounded, read_limited
from router.clientauth import bearer_token, key_matches
from router.config import WebAIConfig
from router.config.proxy import proxy_secrets
from router.config.schema import ServerConfig
from router.error_replies import error_response as router_error_response
from router.errors import ProxyError
from router.formats import Format
from router.request_log import CLIENT_CLOSED, log_request

log = logging.getLogger("cliproxy.webai")

HEALTH_PATH = "/health"
REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# aiohttp's default client_max_size, the limit the service has always had.
BODY_LIMIT = 1024 * 1024
JSON_DEPTH = ServerConfig.max_json_depth

CONFIG_KEY = web.AppKey("webai_config", WebAIConfig)
BACKEND_KEY = web.AppKey("webai_backend", G4FBackend)
OUTCOMES_KEY = web.AppKey("webai_outcomes", ProviderOutcomes)
COOKIES_KEY = web.AppKey("webai_cookies", LoadedCookies)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RequestTrace:
    """What the request log line reports, filled in as the request is handled."""

    request_id: str
    model: str | None = None
    provider: str | None = None
    outcome: str | None = None
    reason: str | None = None


TRACE_KEY = web.RequestKey("webai_trace", RequestTrace)


class RequestRejected(Exception):
    """A client error answered with an OpenAI-shaped body."""

    def __init__(self, status: int, message: str, error_type: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code


def error_response(status: int, message: str, error_type: str, code: str | None) -> web.Response:
    return web.json_response(openai_error_body(message, error_type, code), status=status)


@web.middleware
async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Assign the request id and write the one log line of every request."""
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = supplied if REQUEST_ID_PATTERN.match(supplied) else secrets.token_hex(8)
    trace = RequestTrace(request_id)
    request[TRACE_KEY] = trace
    started = time.monotonic()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        trace.outcome = trace.outcome or "client_disconnected"
        raise
    finally:
        fields = {
            "model": trace.model,
            "provider": trace.provider,
            "outcome": trace.outcome or ("ok" if status < 400 else "error"),
            "reason": trace.reason,
        }
        log_request(
            log,
            request,
            request_id,
            status,
            started,
            fields,
            event="request",
            latency_digits=None,
        )


@web.middleware
async def error_shape_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as an OpenAI error object; never a traceback."""
    try:
        return await handler(request)
    except RequestRejected as exc:
        return error_response(exc.status, exc.message, exc.error_type, exc.code)
    except ProxyError as exc:
        return router_error_response(Format.OPENAI_CHAT, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason, "invalid_request_error", None)
    except Exception as exc:
        request[TRACE_KEY].reason = f"unhandled {type(exc).__name__}"
        return error_response(500, "internal error in webai service", "server_error", None)


@web.middleware
async def shared_key_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path == HEALTH_PATH:
        return await handler(request)
    if not key_matches(bearer_token(request), request.app[CONFIG_KEY].key):
        raise RequestRejected(
            401, "missing or invalid API key", "authentication_error", "invalid_api_key"
        )
    return await handler(request)


async def handle_health(request: web.Request) -> web.Response:
    cookies = request.app[COOKIES_KEY]
    return web.json_response(
        {
            "status": "ok",
            "providers": request.app[OUTCOMES_KEY].snapshot(),
            "models": sorted(request.app[CONFIG_KEY].models),
            "cookies": {domain: list(names) for domain, names in cookies.names_by_domain.items()},
        }
    )


async def handle_models(request: web.Request) -> web.Response:
    return web.json_response(model_list(request.app[CONFIG_KEY].models))


async def handle_chat_completions(request: web.Request) -> web.StreamResponse:
    body = await read_json_object(request)
    client_model = body.get("model")
    if not isinstance(client_model, str) or not client_model:
        raise RequestRejected(400, "model is required", "invalid_request_error", "missing_model")
    messages = validate_messages(body.get("messages"))
    request[TRACE_KEY].model = client_model
    g4f_model = request.app[CONFIG_KEY].models.get(client_model)
    if g4f_model is None:
        raise RequestRejected(
            404,
            f"The model {client_model!r} does not exist",
            "invalid_request_error",
            "model_not_found",
        )
    backend = request.app[BACKEND_KEY]
    if body.get("stream") is True:
        return await stream_completion(request, backend, client_model, g4f_model, messages)
    try:
        completion = await backend.complete(g4f_model, messages)
    except GenerationError as exc:
        return generation_error_response(request, exc)
    request[TRACE_KEY].provider = completion.provider
    return web.json_response(
        chat_completion(
            new_completion_id(),
            client_model,
            completion.text,
            completion.finish_reason,
            completion.usage,
        )
    )


async def stream_completion(
    request: web.Request,
    backend: G4FBackend,
    client_model: str,
    g4f_model: str,
    messages: list[dict[str, Any]],
) -> web.StreamResponse:
    try:
        stream = await backend.open_stream(g4f_model, messages)
    except GenerationError as exc:
        return generation_error_response(request, exc)
    request[TRACE_KEY].provider = stream.provider
    try:
        return await relay_stream(request, stream, client_model)
    finally:
        await stream.aclose()


async def relay_stream(
    request: web.Request, stream: ProviderStream, client_model: str
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    completion_id = new_completion_id()
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return sse_event(
            chat_completion_chunk(completion_id, created, client_model, delta, finish_reason)
        )

    try:
        await response.prepare(request)
        await response.write(chunk({"role": "assistant", "content": ""}))
        try:
            finish_reason = await relay_deltas(response, stream, chunk)
        except GenerationError as exc:
            request[TRACE_KEY].outcome = "stream_error"
            request[TRACE_KEY].reason = exc.message
            error = openai_error_body(exc.message, exc.error_type, exc.code)
            await response.write(sse_event(error))
        else:
            await response.write(chunk({}, finish_reason))
            await response.write(SSE_DONE)
        await response.write_eof()
    except ConnectionResetError:
        request[TRACE_KEY].outcome = "client_disconnected"
    return response


async def relay_deltas(
    response: web.StreamResponse,
    stream: ProviderStream,
    chunk: Callable[[dict[str, Any]], bytes],
) -> str:
    """Write every text delta as a chunk; returns the finish reason."""
    delta: StreamDelta | None = stream.first
    finish_reason = "stop"
    while delta is not None:
        if delta.text:
            await response.write(chunk({"content": delta.text}))
        finish_reason = delta.finish_reason or finish_reason
        delta = await stream.next_delta()
    return finish_reason


def generation_error_response(request: web.Request, exc: GenerationError) -> web.Response:
    trace = request[TRACE_KEY]
    trace.outcome = "error"
    trace.reason = exc.message
    if exc.attempts:
        trace.provider = exc.attempts[-1].provider
    return error_response(exc.status, exc.message, exc.error_type, exc.code)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, read by the router's reader (size limit, Content-Encoding,
    nesting depth, unpaired surrogates: those failures are ProxyErrors)."""
    raw = await read_limited(request, BODY_LIMIT, limit_name="the webai service's limit")
    try:
        body = loads_bounded(raw, JSON_DEPTH)
    except ValueError:
        raise RequestRejected(
            400, "request body is not valid JSON", "invalid_request_error", "invalid_json"
        ) from None
    if not isinstance(body, dict):
        raise RequestRejected(
            400, "request body must be a JSON object", "invalid_request_error", "invalid_json"
        )
    return body


def validate_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise RequestRejected(
            400, "messages must be a non-empty array", "invalid_request_error", "missing_messages"
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise RequestRejected(
                400,
                f"messages[{index}] must be an object with a role",
                "invalid_request_error",
                "invalid_messages",
            )
    return messages


async def add_request_id_header(request: web.Request, response: web.StreamResponse) -> None:
    trace = request.get(TRACE_KEY)
    if trace is not None:
        response.headers[REQUEST_ID_HEADER] = trace.request_id


def build_app(cfg: WebAIConfig) -> web.Application:
    """Validate the config, point g4f at the cookie dir and wire the routes."""
    if not cfg.key:
        raise WebAIConfigError("webai.key is empty; the service refuses to run without a key")
    if cfg.timeout <= 0:
        raise WebAIConfigError("webai.timeout must be positive")
    providers = resolve_providers(cfg.providers)
    cookies = prepare_cookies_dir(cfg.cookies_dir)
    redact = Redactor([cfg.key, *cookies.values, *proxy_secrets(cfg.proxy_url)])
    outcomes = ProviderOutcomes(item.name for item in providers)
    app = web.Application(
        middlewares=[access_log_middleware, error_shape_middleware, shared_key_middleware]
    )
    app[CONFIG_KEY] = cfg
    app[OUTCOMES_KEY] = outcomes
    app[COOKIES_KEY] = cookies
    app[BACKEND_KEY] = G4FBackend(
        providers, cfg.timeout, outcomes, redact, proxy=cfg.proxy_url or None
    )
    app.router.add_get(HEALTH_PATH, handle_health)
    app.router.add_get("/v1/models", handle_models)
    app.router.add_post("/v1/chat/completions", handle_chat_completions)
    app.on_response_prepare.append(add_request_id_header)
    return app


async def start_webai(cfg: WebAIConfig) -> tuple[web.AppRunner, str]:
    """Start the service on cfg.host:cfg.port (port 0 picks a free one); returns its base URL."""
    app = build_app(cfg)
    # The router's body reader undoes Content-Encoding itself, within the size limit.
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, auto_decompress=False)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"
