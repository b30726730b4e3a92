"""OpenAI Responses answers: whole responses both ways, usage, stop reasons, and the
item shapes the stream encoder reuses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.formats.codec import require, wrap_signature
from router.formats.context import TranslationContext
from router.formats.errors import FormatError
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
from router.formats.openai_responses.request_decode import (
    FREEFORM_ARGUMENT,
    decode_content,
    decode_reasoning_item,
)
from router.jsonio import loads

FMT = Format.OPENAI_RESPONSES


def decode_responses_usage(usage: Any) -> Usage:
    if not isinstance(usage, dict):
        return Usage()
    input_details = usage.get("input_tokens_details") or {}
    output_details = usage.get("output_tokens_details") or {}
    return Usage(
        input_tokens=usage.get("input_tokens") or 0,
        output_tokens=usage.get("output_tokens") or 0,
        cache_read_tokens=input_details.get("cached_tokens") or 0,
        cache_creation_tokens=input_details.get("cache_write_tokens") or 0,
        reasoning_tokens=output_details.get("reasoning_tokens") or 0,
    )


def encode_responses_usage(usage: Usage) -> dict:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_creation_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def stop_reason(status: str | None, incomplete: Any, has_calls: bool) -> StopReason:
    if status == "incomplete":
        reason = (incomplete or {}).get("reason")
        return StopReason.CONTENT_FILTER if reason == "content_filter" else StopReason.MAX_TOKENS
    if status == "failed":
        return StopReason.ERROR
    return StopReason.TOOL_USE if has_calls else StopReason.END_TURN


def decode_responses_response(body: dict, ctx: TranslationContext) -> Response:
    if not isinstance(body, dict):
        raise FormatError("response body must be a JSON object")
    parts: list[Part] = []
    for item in require(body, "output", list):
        if isinstance(item, dict):
            parts.extend(_output_item_parts(item, ctx))
    has_calls = any(isinstance(p, ToolCallPart) for p in parts)
    return Response(
        id=body.get("id") or "",
        model=body.get("model") or "",
        parts=parts,
        stop_reason=stop_reason(body.get("status"), body.get("incomplete_details"), has_calls),
        usage=decode_responses_usage(body.get("usage")),
    )


def _output_item_parts(item: dict, ctx: TranslationContext) -> Sequence[Part]:
    match item.get("type"):
        case "message":
            return decode_content(item.get("content") or [], "output.content")
        case "function_call":
            call = ToolCallPart(
                id=ctx.call_id_in(item.get("call_id") or ""),
                name=ctx.tool_name_in(item.get("name") or ""),
                arguments=item.get("arguments") or "",
            )
            return [call]
        case "reasoning":
            part = decode_reasoning_item(item, FMT)
            part.source = FMT
            return [part]
    return []


def base_response(ctx: TranslationContext, status: str) -> dict:
    return {
        "id": f"resp_{ctx.request_id}",
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "model": ctx.client_model,
        "output": [],
        "parallel_tool_calls": True,
        "temperature": None,
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "usage": None,
    }


def finish_fields(resp: dict, stop: StopReason, usage: Usage) -> None:
    if stop is StopReason.MAX_TOKENS:
        resp["status"] = "incomplete"
        resp["incomplete_details"] = {"reason": "max_output_tokens"}
    elif stop is StopReason.CONTENT_FILTER:
        resp["status"] = "incomplete"
        resp["incomplete_details"] = {"reason": "content_filter"}
    else:
        resp["status"] = "completed"
    resp["usage"] = encode_responses_usage(usage)


def message_item(item_id: str, text: str) -> dict:
    return {
        "id": item_id,
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def function_item(
    item_id: str,
    call_id: str,
    name: str,
    arguments: str,
    status: str,
    namespace: str | None = None,
) -> dict:
    item = {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }
    if namespace is not None:
        item["namespace"] = namespace
    return item


def client_tool_name(ctx: TranslationContext, name: str) -> tuple[str, str | None]:
    """(name, namespace) as the client declared the tool; namespace None for a plain one."""
    namespaced = ctx.namespaced_tools.get(name)
    if namespaced is None:
        return name, None
    return namespaced[1], namespaced[0]


def freeform_input(arguments: str) -> str:
    """The raw input of a custom tool's call, from the function arguments the upstream
    sent ({"input": "..."}); arguments of another shape are passed on as they are."""
    try:
        value = loads(arguments)
    except ValueError:
        return arguments
    raw = value.get(FREEFORM_ARGUMENT) if isinstance(value, dict) else None
    return raw if isinstance(raw, str) else arguments


def custom_call_item(
    item_id: str,
    call_id: str,
    name: str,
    raw_input: str,
    status: str,
    namespace: str | None = None,
) -> dict:
    item = {
        "id": item_id,
        "type": "custom_tool_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "input": raw_input,
    }
    if namespace is not None:
        item["namespace"] = namespace
    return item


def reasoning_item(item_id: str, text: str, signature: str | None) -> dict:
    item = {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text}] if text else [],
    }
    if signature is not None:
        item["encrypted_content"] = signature
    return item


def encode_responses_response(resp: Response, ctx: TranslationContext) -> dict:
    out = base_response(ctx, "completed")
    rid = ctx.request_id
    output = out["output"]
    for n, part in enumerate(resp.parts):
        match part:
            case TextPart():
                output.append(message_item(f"msg_{rid}_{n}", part.text))
            case ToolCallPart() if part.name in ctx.freeform_tools:
                name, namespace = client_tool_name(ctx, part.name)
                raw_input = freeform_input(part.arguments)
                output.append(
                    custom_call_item(
                        f"ctc_{rid}_{n}", part.id, name, raw_input, "completed", namespace
                    )
                )
            case ToolCallPart():
                name, namespace = client_tool_name(ctx, part.name)
                output.append(
                    function_item(
                        f"fc_{rid}_{n}", part.id, name, part.arguments, "completed", namespace
                    )
                )
            case ReasoningPart():
                own_id = part.item_id if part.source is FMT else None
                signature = wrap_signature(part.signature, part.source, FMT)
                output.append(
                    reasoning_item(own_id or f"rs_{rid}_{n}", part.text, signature or None)
                )
    finish_fields(out, resp.stop_reason, resp.usage)
    return out
