"""OpenAI Chat Completions answers: whole responses, usage, finish reasons, error bodies."""

from __future__ import annotations

from typing import Any

from router.formats.codec import require
from router.formats.context import TranslationContext
from router.formats.errors import OPENAI_CODE, OPENAI_TYPE, ErrorKind, FormatError
from router.formats.ir import (
    Part,
    ReasoningPart,
    Response,
    StopReason,
    TextPart,
    ToolCallPart,
    Usage,
)
from router.formats.openai_chat.request_decode import decode_assistant_message

FINISH_IN = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
}
FINISH_OUT = {
    StopReason.END_TURN: "stop",
    StopReason.STOP_SEQUENCE: "stop",
    StopReason.MAX_TOKENS: "length",
    StopReason.TOOL_USE: "tool_calls",
    StopReason.CONTENT_FILTER: "content_filter",
    StopReason.ERROR: "stop",
}


def openai_error_body(message: str, kind: ErrorKind) -> dict:
    return {
        "error": {
            "message": message,
            "type": OPENAI_TYPE[kind],
            "param": None,
            "code": OPENAI_CODE[kind],
        }
    }


def decode_chat_usage(usage: Any) -> Usage:
    if not isinstance(usage, dict):
        return Usage()
    prompt = usage.get("prompt_tokens") or 0
    completion = usage.get("completion_tokens") or 0
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        cache_read_tokens=prompt_details.get("cached_tokens") or 0,
        reasoning_tokens=completion_details.get("reasoning_tokens") or 0,
    )


def encode_chat_usage(usage: Usage) -> dict:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def decode_chat_response(body: dict, ctx: TranslationContext) -> Response:
    if not isinstance(body, dict):
        raise FormatError("response body must be a JSON object")
    choices = require(body, "choices", list)
    if not choices or not isinstance(choices[0], dict):
        raise FormatError("choices: expected at least one choice")
    choice = choices[0]
    message = require(choice, "message", dict, "choices[0].")
    parts = decode_assistant_message(message, "choices[0].message").parts
    for part in parts:
        if isinstance(part, ToolCallPart):
            part.name = ctx.tool_name_in(part.name)
            part.id = ctx.call_id_in(part.id)
    stop = FINISH_IN.get(choice.get("finish_reason") or "stop", StopReason.END_TURN)
    return Response(
        id=body.get("id") or f"chatcmpl-{ctx.request_id}",
        model=body.get("model") or "",
        parts=parts,
        stop_reason=stop,
        usage=decode_chat_usage(body.get("usage")),
    )


def encode_chat_response(resp: Response, ctx: TranslationContext) -> dict:
    message = _encode_assistant_response(resp.parts)
    return {
        "id": f"chatcmpl-{ctx.request_id}",
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.client_model or resp.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": FINISH_OUT[resp.stop_reason],
            }
        ],
        "usage": encode_chat_usage(resp.usage),
    }


def _encode_assistant_response(parts: list[Part]) -> dict:
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict] = []
    for part in parts:
        match part:
            case TextPart():
                texts.append(part.text)
            case ReasoningPart() if part.text:
                reasoning.append(part.text)
            case ToolCallPart():
                calls.append(
                    {
                        "id": part.id,
                        "type": "function",
                        "function": {"name": part.name, "arguments": part.arguments},
                    }
                )
    message: dict = {"role": "assistant", "content": "".join(texts) if texts else None}
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = calls
    return message
