"""IR Request -> an Anthropic Messages request body for an upstream."""

from __future__ import annotations

from router.formats import web_search
from router.formats.codec import effort_to_budget, parse_arguments
from router.formats.context import TranslationContext
from router.formats.errors import UnsupportedFeature
from router.formats.features import cannot_express, check_target
from router.formats.ir import (
    Format,
    ImagePart,
    Part,
    ReasoningPart,
    Request,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    all_system,
)
from router.formats.reasoning_cache import with_cached_reasoning

FMT = Format.ANTHROPIC
MIN_THINKING_BUDGET = 1024
FORCED = ("required", "tool")
JSON_OBJECT_INSTRUCTION = "Respond only with a single valid JSON object and nothing else."
_TOOL_CHOICE_TYPE = {"auto": "auto", "required": "any", "none": "none"}


def encode_anthropic_request(req: Request, ctx: TranslationContext) -> dict:
    check_target(req, FMT, ctx)
    req = with_cached_reasoning(req, FMT, ctx.reasoning)
    messages = _encode_messages(req, ctx)
    max_tokens = req.max_tokens if req.max_tokens is not None else ctx.default_max_tokens
    thinking, thinking_max_tokens = _thinking_config(req, max_tokens)
    if thinking is not None and thinking["type"] == "enabled" and _unsigned_tool_turn(messages):
        ctx.drop("reasoning")
        thinking = None
    else:
        max_tokens = thinking_max_tokens
    body: dict = {"model": req.model, "max_tokens": max_tokens, "messages": messages}
    _encode_system_and_format(req, body)
    if req.tools:
        _encode_tools(req, ctx, body)
    if req.web_search is not None:
        body.setdefault("tools", []).append(web_search.target_tool(FMT))
    thinking_on = thinking is not None and thinking["type"] == "enabled"
    if thinking_on and req.tools and req.tool_choice and req.tool_choice.mode in FORCED:
        raise cannot_express("tool_choice", "a forced tool call while thinking is enabled", FMT)
    _encode_sampling(req, body, thinking_on)
    if req.user is not None:
        body["metadata"] = {"user_id": req.user}
    if req.stop:
        body["stop_sequences"] = list(req.stop)
    if thinking is not None:
        body["thinking"] = thinking
    if req.stream:
        body["stream"] = True
    return body


def _unsigned_tool_turn(messages: list[dict]) -> bool:
    """The last assistant turn calls a tool without Anthropic-signed thinking ahead of it.

    With thinking on, Anthropic refuses such a turn. It happens when the turn was answered
    by another upstream (or before this router saw it) and no signature is cached, so the
    reasoning cannot travel back; this request then goes without thinking.
    """
    for message in reversed(messages):
        if message["role"] != "assistant":
            continue
        blocks = message["content"]
        calls_tool = any(block["type"] == "tool_use" for block in blocks)
        return calls_tool and blocks[0]["type"] not in ("thinking", "redacted_thinking")
    return False


def _encode_messages(req: Request, ctx: TranslationContext) -> list[dict]:
    """Turns in order; consecutive turns of one role merge (Anthropic alternates)."""
    messages: list[dict] = []
    for i, msg in enumerate(req.messages):
        blocks = _encode_parts(msg.parts, ctx, f"messages[{i}]")
        if not blocks:
            continue
        if messages and messages[-1]["role"] == msg.role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": msg.role, "content": blocks})
    return messages


def _encode_system_and_format(req: Request, body: dict) -> None:
    """System text; json_schema output is native, json_object is asked for in the system."""
    system = list(all_system(req))
    rf = req.response_format
    if rf is not None and rf.type == "json_schema":
        body["output_config"] = {
            "format": {"type": "json_schema", "schema": rf.schema or {"type": "object"}}
        }
    elif rf is not None:
        system.append(JSON_OBJECT_INSTRUCTION)
    if len(system) == 1:
        body["system"] = system[0]
    elif system:
        body["system"] = [{"type": "text", "text": t} for t in system]


def _encode_tools(req: Request, ctx: TranslationContext, body: dict) -> None:
    body["tools"] = [
        {
            "name": ctx.tool_name_out(t.name),
            **({"description": t.description} if t.description is not None else {}),
            "input_schema": _object_schema(t.parameters),
        }
        for t in req.tools
    ]
    choice: dict | None = None
    tc = req.tool_choice
    if tc is not None and tc.mode == "tool":
        choice = {"type": "tool", "name": ctx.tool_name_out(tc.name or "")}
    elif tc is not None:
        choice = {"type": _TOOL_CHOICE_TYPE[tc.mode]}
    if req.parallel_tool_calls is False:
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    if choice is not None:
        body["tool_choice"] = choice


def _encode_sampling(req: Request, body: dict, thinking_on: bool) -> None:
    """With thinking on Anthropic refuses temperature, top_k and a top_p below 0.95."""
    if req.temperature is not None and not thinking_on:
        body["temperature"] = req.temperature
    if req.top_p is not None and (not thinking_on or req.top_p >= 0.95):
        body["top_p"] = req.top_p
    if req.top_k is not None and not thinking_on:
        body["top_k"] = req.top_k


def _object_schema(schema: dict) -> dict:
    if not schema:
        return {"type": "object", "properties": {}}
    if "type" not in schema:
        return {"type": "object", **schema}
    return schema


def _thinking_config(req: Request, max_tokens: int) -> tuple[dict | None, int]:
    """The thinking setting and max_tokens raised above its budget when needed."""
    r = req.reasoning
    if r is None:
        return None, max_tokens
    budget = r.budget
    if budget is None and r.effort is not None:
        budget = effort_to_budget(r.effort)
    if budget is None:
        return None, max_tokens
    if budget == 0:
        return {"type": "disabled"}, max_tokens
    if budget < 0:
        budget = effort_to_budget("medium")
    budget = max(budget, MIN_THINKING_BUDGET)
    if max_tokens <= budget:
        max_tokens = budget + min(max_tokens, 4096)
    return {"type": "enabled", "budget_tokens": budget}, max_tokens


def _encode_image(part: ImagePart, where: str) -> dict:
    if part.file_ref:
        raise UnsupportedFeature(f"{where}: provider file references cannot be sent to Anthropic")
    if part.data is not None:
        return {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": part.media_type or "image/png",
                "data": part.data,
            },
        }
    return {"type": "image", "source": {"type": "url", "url": part.url}}


def _encode_parts(parts: list[Part], ctx: TranslationContext, where: str) -> list[dict]:
    blocks: list[dict] = []
    for part in parts:
        if isinstance(part, TextPart):
            if part.text:
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCallPart):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": ctx.call_id_out(part.id),
                    "name": ctx.tool_name_out(part.name),
                    "input": parse_arguments(part.arguments, where),
                }
            )
        elif isinstance(part, ToolResultPart):
            blocks.append(_tool_result_block(part, ctx, where))
        elif isinstance(part, ImagePart):
            blocks.append(_encode_image(part, where))
        elif part.source is FMT and part.signature:
            blocks.append(_thinking_block(part, part.signature))
    return blocks


def _tool_result_block(part: ToolResultPart, ctx: TranslationContext, where: str) -> dict:
    content = [
        {"type": "text", "text": item.text}
        if isinstance(item, TextPart)
        else _encode_image(item, where)
        for item in part.content
    ]
    block: dict = {"type": "tool_result", "tool_use_id": ctx.call_id_out(part.call_id)}
    if len(content) == 1 and content[0]["type"] == "text":
        block["content"] = content[0]["text"]
    elif content:
        block["content"] = content
    if part.is_error:
        block["is_error"] = True
    return block


def _thinking_block(part: ReasoningPart, signature: str) -> dict:
    if part.redacted:
        return {"type": "redacted_thinking", "data": signature}
    return {"type": "thinking", "thinking": part.text, "signature": signature}
