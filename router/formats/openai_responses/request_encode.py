"""IR Request -> an OpenAI Responses request body for an upstream."""

from __future__ import annotations

from typing import Any

from router.formats import web_search
from router.formats.codec import budget_to_effort, openai_function, openai_sampling, openai_user_id
from router.formats.context import TranslationContext
from router.formats.errors import UnsupportedFeature
from router.formats.features import cannot_express, check_target, client_field
from router.formats.ir import (
    Format,
    ImagePart,
    Message,
    ReasoningPart,
    Request,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    mid_system_at,
)
from router.formats.reasoning_cache import with_cached_reasoning

FMT = Format.OPENAI_RESPONSES


def encode_responses_request(req: Request, ctx: TranslationContext) -> dict:
    check_target(req, FMT, ctx)
    req = with_cached_reasoning(req, FMT, ctx.reasoning)
    items: list[dict] = []
    mid = mid_system_at(req)
    for i, msg in enumerate(req.messages):
        items.extend(_developer_item(text) for text in mid.get(i, ()))
        if msg.role == "assistant":
            items.extend(_assistant_items(msg, ctx))
        else:
            items.extend(_user_items(msg, ctx, f"messages[{i}]"))
    items.extend(_developer_item(text) for text in mid.get(len(req.messages), ()))
    body: dict = {"model": req.model, "input": items}
    if req.system:
        body["instructions"] = "\n\n".join(req.system)
    if req.tools:
        body["tools"] = _encode_tools(req, ctx)
    if req.web_search is not None:
        body.setdefault("tools", []).append(web_search.target_tool(FMT))
    tc = req.tool_choice
    if tc is not None:
        body["tool_choice"] = (
            {"type": "function", "name": ctx.tool_name_out(tc.name or "")}
            if tc.mode == "tool"
            else tc.mode
        )
    _encode_generation(req, body)
    if req.user is not None:
        body["safety_identifier"] = openai_user_id(req.user)
    if req.previous_response_id is not None:
        body["previous_response_id"] = req.previous_response_id
    if req.stream:
        body["stream"] = True
    return body


def _assistant_items(msg: Message, ctx: TranslationContext) -> list[dict]:
    """An assistant turn as output items: messages, function calls, own-format reasoning."""
    items: list[dict] = []
    for part in msg.parts:
        if isinstance(part, TextPart):
            items.append(
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": part.text}],
                }
            )
        elif isinstance(part, ToolCallPart):
            items.append(
                {
                    "type": "function_call",
                    "call_id": ctx.call_id_out(part.id),
                    "name": ctx.tool_name_out(part.name),
                    "arguments": part.arguments,
                }
            )
        elif isinstance(part, ReasoningPart) and part.source is FMT and part.signature:
            # without its encrypted content a reasoning item only names a stored one,
            # which a store=false upstream answers with a 404
            items.append(_reasoning_item(part))
    return items


def _developer_item(text: str) -> dict:
    """A system message from inside the client's conversation, where it was."""
    return {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": text}],
    }


def _reasoning_item(part: ReasoningPart) -> dict:
    item: dict = {"type": "reasoning"}
    if part.item_id:
        item["id"] = part.item_id
    item["summary"] = [{"type": "summary_text", "text": part.text}] if part.text else []
    item["encrypted_content"] = part.signature
    return item


def _user_items(msg: Message, ctx: TranslationContext, where: str) -> list[dict]:
    """A user turn: each tool result an output item, then one message with the rest."""
    items: list[dict] = []
    content: list[dict] = []
    for part in msg.parts:
        if isinstance(part, TextPart):
            content.append({"type": "input_text", "text": part.text})
        elif isinstance(part, ToolResultPart):
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": ctx.call_id_out(part.call_id),
                    "output": _tool_output(part, where),
                }
            )
        elif isinstance(part, ImagePart):
            content.append(_image(part, where))
    if content:
        items.append({"type": "message", "role": "user", "content": content})
    return items


def _tool_output(part: ToolResultPart, where: str) -> Any:
    """A plain string for one text (or none), else a list of input parts."""
    content = part.content
    output: Any
    if not content:
        output = ""
    elif len(content) == 1 and isinstance(content[0], TextPart):
        output = content[0].text
    else:
        output = [
            {"type": "input_text", "text": c.text} if isinstance(c, TextPart) else _image(c, where)
            for c in content
        ]
    if part.is_error and isinstance(output, str):
        output = f"Error: {output}"
    return output


def _image(part: ImagePart, where: str) -> dict:
    if part.file_ref:
        raise UnsupportedFeature(f"{where}: provider file references cannot be sent to OpenAI")
    url = (
        part.url
        if part.data is None
        else f"data:{part.media_type or 'image/png'};base64,{part.data}"
    )
    return {"type": "input_image", "image_url": url, "detail": part.detail or "auto"}


def _encode_tools(req: Request, ctx: TranslationContext) -> list[dict]:
    return [
        {
            "type": "function",
            **openai_function(t, ctx),
            "strict": False,
        }
        for t in req.tools
    ]


def _encode_generation(req: Request, body: dict) -> None:
    """Length, sampling, reasoning and the `text` options (format, verbosity)."""
    openai_sampling(req, body, "max_output_tokens")
    if req.stop:
        raise cannot_express(client_field(req, "stop"), "stop sequences", FMT)
    # cliproxy keeps no conversation and never refers to a stored one, so it asks the
    # upstream to store nothing; the reasoning then comes back on the next turn of a tool
    # loop only as its encrypted content (from the client or the cache). Only asked for
    # when reasoning is on: models that do not reason reject the include with a 400.
    body["store"] = False
    reasoning = _encode_reasoning(req)
    if reasoning:
        body["reasoning"] = reasoning
        if reasoning.get("effort") != "none":
            body["include"] = ["reasoning.encrypted_content"]
    text = _encode_text(req)
    if text:
        body["text"] = text


def _encode_reasoning(req: Request) -> dict:
    r = req.reasoning
    if r is None:
        return {}
    reasoning: dict = {}
    effort = r.effort or (budget_to_effort(r.budget) if r.budget is not None else None)
    if effort:
        reasoning["effort"] = effort
    if r.include_thoughts:
        reasoning["summary"] = "auto"
    return reasoning


def _encode_text(req: Request) -> dict:
    text: dict = {}
    rf = req.response_format
    if rf is not None and rf.type == "json_object":
        text["format"] = {"type": "json_object"}
    elif rf is not None:
        fmt: dict = {"type": "json_schema", "name": rf.name or "response", "schema": rf.schema}
        if rf.strict is not None:
            fmt["strict"] = rf.strict
        text["format"] = fmt
    if req.verbosity is not None:
        text["verbosity"] = req.verbosity
    return text
