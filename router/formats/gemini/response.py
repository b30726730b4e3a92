"""Gemini answers: whole responses both ways, usage, finish reasons, error bodies."""

from __future__ import annotations

from typing import Any

from router.formats.codec import wrap_signature
from router.formats.context import TranslationContext
from router.formats.errors import GEMINI_STATUS, ErrorKind, FormatError
from router.formats.gemini.parts import PartDecoder, call_id_factory
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

FMT = Format.GEMINI

FINISH_IN = {
    "STOP": StopReason.END_TURN,
    "MAX_TOKENS": StopReason.MAX_TOKENS,
    "SAFETY": StopReason.CONTENT_FILTER,
    "RECITATION": StopReason.CONTENT_FILTER,
    "BLOCKLIST": StopReason.CONTENT_FILTER,
    "PROHIBITED_CONTENT": StopReason.CONTENT_FILTER,
    "SPII": StopReason.CONTENT_FILTER,
    "IMAGE_SAFETY": StopReason.CONTENT_FILTER,
    "MALFORMED_FUNCTION_CALL": StopReason.ERROR,
    "OTHER": StopReason.ERROR,
}
FINISH_OUT = {
    StopReason.END_TURN: "STOP",
    StopReason.STOP_SEQUENCE: "STOP",
    StopReason.TOOL_USE: "STOP",
    StopReason.MAX_TOKENS: "MAX_TOKENS",
    StopReason.CONTENT_FILTER: "SAFETY",
    StopReason.ERROR: "OTHER",
}
HTTP_FOR_KIND = {
    ErrorKind.INVALID_REQUEST: 400,
    ErrorKind.AUTHENTICATION: 401,
    ErrorKind.PERMISSION: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.REQUEST_TOO_LARGE: 413,
    ErrorKind.RATE_LIMIT: 429,
    ErrorKind.OVERLOADED: 503,
    ErrorKind.API_ERROR: 500,
    ErrorKind.TIMEOUT: 504,
}
_KIND_FOR_STATUS = {v: k for k, v in GEMINI_STATUS.items() if k is not ErrorKind.REQUEST_TOO_LARGE}


def gemini_error_body(status: int, message: str, kind: ErrorKind) -> dict:
    return {"error": {"code": status, "message": message, "status": GEMINI_STATUS[kind]}}


def error_kind(status: Any) -> ErrorKind:
    """The kind of a Gemini error status such as "RESOURCE_EXHAUSTED" (else api_error)."""
    if isinstance(status, str):
        return _KIND_FOR_STATUS.get(status, ErrorKind.API_ERROR)
    return ErrorKind.API_ERROR


def decode_gemini_usage(meta: Any) -> Usage:
    if not isinstance(meta, dict):
        return Usage()
    thoughts = meta.get("thoughtsTokenCount") or 0
    return Usage(
        input_tokens=meta.get("promptTokenCount") or 0,
        output_tokens=(meta.get("candidatesTokenCount") or 0) + thoughts,
        cache_read_tokens=meta.get("cachedContentTokenCount") or 0,
        reasoning_tokens=thoughts,
    )


def encode_gemini_usage(usage: Usage) -> dict:
    meta = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if usage.reasoning_tokens:
        meta["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cache_read_tokens:
        meta["cachedContentTokenCount"] = usage.cache_read_tokens
    return meta


def decode_gemini_response(body: dict, ctx: TranslationContext) -> Response:
    if not isinstance(body, dict):
        raise FormatError("response body must be a JSON object")
    candidates = body.get("candidates") or []
    parts: list[Part] = []
    stop = StopReason.CONTENT_FILTER
    if candidates:
        cand = candidates[0]
        decoder = PartDecoder(FMT, call_id_factory(ctx), ctx)
        parts = decoder.decode((cand.get("content") or {}).get("parts") or [], "parts")
        stop = FINISH_IN.get(cand.get("finishReason") or "STOP", StopReason.END_TURN)
        if stop is StopReason.END_TURN and any(isinstance(p, ToolCallPart) for p in parts):
            stop = StopReason.TOOL_USE
    return Response(
        id=body.get("responseId") or "",
        model=body.get("modelVersion") or "",
        parts=parts,
        stop_reason=stop,
        usage=decode_gemini_usage(body.get("usageMetadata")),
    )


def encode_gemini_response(resp: Response, ctx: TranslationContext) -> dict:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": _response_parts(resp.parts)},
                "finishReason": FINISH_OUT[resp.stop_reason],
                "index": 0,
            }
        ],
        "usageMetadata": encode_gemini_usage(resp.usage),
        "modelVersion": ctx.client_model or resp.model,
        "responseId": ctx.request_id,
    }


def _response_parts(parts: list[Part]) -> list[dict]:
    """Thought text becomes a thought part; a signature goes on the part after it (a
    function call's signature on the call, where clients that drop thought parts keep
    it)."""
    out: list[dict] = []
    pending_sig: str | None = None
    for part in parts:
        if isinstance(part, ReasoningPart):
            if part.text:
                out.append({"text": part.text, "thought": True})
            if part.signature or part.source is not FMT:
                pending_sig = wrap_signature(part.signature, part.source, FMT)
            continue
        item = _response_item(part)
        if item is None:
            continue
        if pending_sig is not None:
            item["thoughtSignature"] = pending_sig
            pending_sig = None
        out.append(item)
    if pending_sig is not None:
        out.append({"text": "", "thoughtSignature": pending_sig})
    return out


def _response_item(part: Part) -> dict | None:
    match part:
        case TextPart():
            return {"text": part.text}
        case ToolCallPart():
            args = loads(part.arguments) if part.arguments else {}
            return {"functionCall": {"id": part.id, "name": part.name, "args": args}}
    return None
