"""Anthropic Messages answers: whole responses both ways, usage, stop reasons, errors."""

from __future__ import annotations

from typing import Any

from router.formats.anthropic.request_decode import decode_blocks
from router.formats.codec import require, wrap_signature
from router.formats.context import TranslationContext
from router.formats.errors import ANTHROPIC_TYPE, ErrorKind, FormatError
from router.formats.ir import (
    Format,
    Part,
    ReasoningPart,
    Response,
    StopReason,
    TextPart,
    ToolCallPart,
    Usage,
)
from router.jsonio import loads

FMT = Format.ANTHROPIC

STOP_IN = {
    "end_turn": StopReason.END_TURN,
    "max_tokens": StopReason.MAX_TOKENS,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "tool_use": StopReason.TOOL_USE,
    "pause_turn": StopReason.END_TURN,
    "refusal": StopReason.CONTENT_FILTER,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
}
STOP_OUT = {
    StopReason.END_TURN: "end_turn",
    StopReason.MAX_TOKENS: "max_tokens",
    StopReason.STOP_SEQUENCE: "stop_sequence",
    StopReason.TOOL_USE: "tool_use",
    StopReason.CONTENT_FILTER: "refusal",
    StopReason.ERROR: "end_turn",
}
_KIND_BY_TYPE = {v: k for k, v in ANTHROPIC_TYPE.items() if k is not ErrorKind.TIMEOUT}


def error_kind(error_type: Any) -> ErrorKind:
    """The kind of an Anthropic error type (unknown types are api_error)."""
    if isinstance(error_type, str):
        return _KIND_BY_TYPE.get(error_type, ErrorKind.API_ERROR)
    return ErrorKind.API_ERROR


def anthropic_error_body(message: str, kind: ErrorKind) -> dict:
    return {"type": "error", "error": {"type": ANTHROPIC_TYPE[kind], "message": message}}


def decode_anthropic_usage(usage: Any) -> Usage:
    if not isinstance(usage, dict):
        return Usage()
    cache_read = usage.get("cache_read_input_tokens") or 0
    cache_creation = usage.get("cache_creation_input_tokens") or 0
    return Usage(
        input_tokens=(usage.get("input_tokens") or 0) + cache_read + cache_creation,
        output_tokens=usage.get("output_tokens") or 0,
        cache_read_tokens=cache_read,
        cache_creation_tokens=cache_creation,
    )


def encode_anthropic_usage(usage: Usage) -> dict:
    uncached = usage.input_tokens - usage.cache_read_tokens - usage.cache_creation_tokens
    return {
        "input_tokens": max(uncached, 0),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_creation_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
    }


# The upstream's own web search (a translated client's web search tool): its calls and
# results stay upstream; the answer's text that follows carries what it found.
_SERVER_TOOL_BLOCKS = frozenset({"server_tool_use", "web_search_tool_result"})


def decode_anthropic_response(body: dict, ctx: TranslationContext) -> Response:
    if not isinstance(body, dict):
        raise FormatError("response body must be a JSON object")
    blocks = require(body, "content", list)
    if any(isinstance(b, dict) and b.get("type") in _SERVER_TOOL_BLOCKS for b in blocks):
        blocks = [
            b for b in blocks if not (isinstance(b, dict) and b.get("type") in _SERVER_TOOL_BLOCKS)
        ]
    parts = decode_blocks(blocks, "content", FMT)
    for part in parts:
        if isinstance(part, ToolCallPart):
            part.name = ctx.tool_name_in(part.name)
            part.id = ctx.call_id_in(part.id)
    return Response(
        id=body.get("id") or "",
        model=body.get("model") or "",
        parts=parts,
        stop_reason=STOP_IN.get(body.get("stop_reason") or "end_turn", StopReason.END_TURN),
        stop_sequence=body.get("stop_sequence"),
        usage=decode_anthropic_usage(body.get("usage")),
    )


def _response_block(part: Part) -> dict | None:
    match part:
        case TextPart():
            return {"type": "text", "text": part.text}
        case ToolCallPart():
            return {
                "type": "tool_use",
                "id": part.id,
                "name": part.name,
                "input": loads(part.arguments) if part.arguments else {},
            }
        case ReasoningPart():
            signature = wrap_signature(part.signature, part.source, FMT)
            if part.redacted and part.source is FMT:
                return {"type": "redacted_thinking", "data": signature}
            return {"type": "thinking", "thinking": part.text, "signature": signature}
    return None


def encode_anthropic_response(resp: Response, ctx: TranslationContext) -> dict:
    content = [b for b in map(_response_block, resp.parts) if b is not None]
    return {
        "id": resp.id if resp.id.startswith("msg_") else f"msg_{ctx.request_id}",
        "type": "message",
        "role": "assistant",
        "model": ctx.client_model or resp.model,
        "content": content,
        "stop_reason": STOP_OUT[resp.stop_reason],
        "stop_sequence": resp.stop_sequence,
        "usage": encode_anthropic_usage(resp.usage),
    }
