"""Token counting: exact from an upstream that counts (Anthropic, Gemini), else a local
offline estimate (labelled ``tokens_estimated=true`` in the request log).

An issued key may count tokens only for the models it may use (403 naming the model, as
for generation). Counts are ledger rows with ``operation=count_tokens``: they spend no
budget and usage totals leave them out unless asked (router/usage/ledger.py)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from aiohttp import web

from router.context import context
from router.errors import ProxyError
from router.formats import (
    Format,
    Request,
    TranslationContext,
    estimate_tokens,
    get_codec,
)
from router.generation.codec_guard import TranslatingClientRequest
from router.generation.pipeline import unknown_model
from router.routing.selector import Candidate
from router.runtime import Runtime
from router.upstreams.base import COUNT_TOKENS, UpstreamCall
from router.usage.ledger import COUNT_TOKENS as COUNT_TOKENS_OPERATION
from router.usage.observer import check_key_model

# Fields Anthropic's count_tokens accepts; anything else it rejects.
_ANTHROPIC_COUNT_FIELDS = ("model", "messages", "system", "tools", "tool_choice", "thinking")


def _decode(client_format: Format, body: dict[str, Any], model: str, request_id: str) -> Request:
    with TranslatingClientRequest("decode", request_id):
        request = get_codec(client_format).decode_request(body)
    return dataclasses.replace(request, model=model)


def _count_body(fmt: Format, request: Request, ctx: TranslationContext) -> dict[str, Any]:
    encoded = get_codec(fmt).encode_request(request, ctx)
    if fmt == Format.ANTHROPIC:
        return {k: v for k, v in encoded.items() if k in _ANTHROPIC_COUNT_FIELDS}
    return {"generateContentRequest": {"model": f"models/{request.model}", **encoded}}


def _counted(fmt: str, payload: Any) -> int | None:
    key = "input_tokens" if fmt == Format.ANTHROPIC else "totalTokens"
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, int) else None


async def count_tokens(
    request: web.Request, runtime: Runtime, client_format: Format, body: dict[str, Any], model: str
) -> int:
    """Tokens in ``body``; asks an upstream that counts, else estimates locally."""
    ctx = context(request)
    ctx.log.update(model=model, format=client_format.value, operation=COUNT_TOKENS_OPERATION)
    check_key_model(ctx, model)
    targets = runtime.table.resolve(model)
    if not targets:
        raise unknown_model(model)
    decoded = _decode(client_format, body, model, ctx.request_id)
    counting = [t for t in targets if t.upstream.counts_tokens]
    if counting:
        translation = TranslationContext(client_model=model, request_id=ctx.request_id)

        def build(candidate: Candidate) -> UpstreamCall:
            fmt = candidate.upstream.wire_format
            with TranslatingClientRequest(f"encode for {fmt}", ctx.request_id):
                outgoing = _count_body(
                    fmt, dataclasses.replace(decoded, model=candidate.model), translation
                )
            return UpstreamCall(
                credential=candidate.credential,
                model=candidate.model,
                body=json.dumps(outgoing).encode(),
                stream=False,
                request_id=ctx.request_id,
                operation=COUNT_TOKENS,
            )

        try:
            opened = await runtime.failover.open(
                counting, build, stream=False, request_id=ctx.request_id
            )
        except ProxyError:
            opened = None
        if opened is not None and opened.reply.status < 300:
            tokens = _counted(opened.candidate.upstream.wire_format, opened.payload)
            if tokens is not None:
                ctx.log.update(provider=opened.candidate.upstream.name, tokens_in=tokens)
                return tokens
    with TranslatingClientRequest("estimate tokens", ctx.request_id):
        tokens = estimate_tokens(decoded)
    ctx.log.update(tokens_in=tokens, tokens_estimated=True)
    return tokens
