"""IR Request -> an OpenAI Chat Completions request body for an upstream."""

from __future__ import annotations

from router.formats.codec import (
    budget_to_effort,
    openai_function,
    openai_sampling,
    openai_user_id,
)
from router.formats.context import TranslationContext
from router.formats.errors import UnsupportedFeature
from router.formats.features import check_target
from router.formats.ir import (
    Format,
    ImagePart,
    Message,
    ReasoningPart,
    Request,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    all_system,
    mid_system_at,
)
from router.formats.reasoning_cache import with_cached_reasoning

FMT = Format.OPENAI_CHAT
# Optional knobs that map one to one onto Chat Completions fields of the same name.
_SAME_NAME = ("seed", "presence_penalty", "frequency_penalty", "logit_bias", "verbosity")


def encode_chat_request(req: Request, ctx: TranslationContext) -> dict:
    check_target(req, FMT, ctx)
    req = with_cached_reasoning(req, FMT, ctx.reasoning)
    merge = ctx.merge_system
    messages: list[dict] = _system_messages(all_system(req) if merge else req.system)
    mid = {} if merge else mid_system_at(req)
    for i, msg in enumerate(req.messages):
        messages.extend({"role": "system", "content": text} for text in mid.get(i, ()))
        if msg.role == "assistant":
            messages.append(_encode_assistant(msg, ctx))
        else:
            _encode_user(msg, messages, ctx, f"messages[{i}]")
    messages.extend({"role": "system", "content": t} for t in mid.get(len(req.messages), ()))
    body: dict = {"model": req.model, "messages": messages}
    if req.tools:
        body["tools"] = _encode_tools(req, ctx)
    if req.tool_choice is not None:
        tc = req.tool_choice
        body["tool_choice"] = (
            {"type": "function", "function": {"name": ctx.tool_name_out(tc.name or "")}}
            if tc.mode == "tool"
            else tc.mode
        )
    _encode_generation(req, body)
    _encode_sampling(req, body)
    if req.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _system_messages(system: list[str]) -> list[dict]:
    if not system:
        return []
    if len(system) == 1:
        return [{"role": "system", "content": system[0]}]
    return [{"role": "system", "content": [{"type": "text", "text": t} for t in system]}]


def _encode_tools(req: Request, ctx: TranslationContext) -> list[dict]:
    return [
        {
            "type": "function",
            "function": openai_function(t, ctx),
        }
        for t in req.tools
    ]


def _encode_generation(req: Request, body: dict) -> None:
    """Length, sampling, stop, reasoning effort and output format."""
    openai_sampling(req, body, "max_completion_tokens")
    if req.stop:
        body["stop"] = list(req.stop)
    effort = _reasoning_effort(req)
    if effort:
        body["reasoning_effort"] = effort
    response_format = _response_format(req)
    if response_format is not None:
        body["response_format"] = response_format


def _reasoning_effort(req: Request) -> str | None:
    r = req.reasoning
    if r is None:
        return None
    return r.effort or (budget_to_effort(r.budget) if r.budget is not None else None)


def _response_format(req: Request) -> dict | None:
    rf = req.response_format
    if rf is None:
        return None
    if rf.type == "json_object":
        return {"type": "json_object"}
    spec: dict = {"name": rf.name or "response", "schema": rf.schema or {}}
    if rf.strict is not None:
        spec["strict"] = rf.strict
    return {"type": "json_schema", "json_schema": spec}


def _encode_sampling(req: Request, body: dict) -> None:
    """The optional knobs that map one to one onto Chat Completions fields."""
    for name in _SAME_NAME:
        value = getattr(req, name)
        if value is not None:
            body[name] = value
    if req.user is not None:
        body["user"] = openai_user_id(req.user)


def _image_url(part: ImagePart, where: str) -> str:
    if part.file_ref:
        raise UnsupportedFeature(f"{where}: provider file references cannot be sent to OpenAI")
    if part.data is not None:
        return f"data:{part.media_type or 'image/png'};base64,{part.data}"
    return part.url or ""


def _encode_user(msg: Message, out: list[dict], ctx: TranslationContext, where: str) -> None:
    """A user turn: each tool result becomes a `tool` message, the rest one user message."""
    content: list[dict] = []
    for part in msg.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolResultPart):
            out.append(_tool_message(part, ctx, where))
        elif isinstance(part, ImagePart):
            image = {"url": _image_url(part, where)}
            if part.detail is not None:
                image["detail"] = part.detail
            content.append({"type": "image_url", "image_url": image})
    if len(content) == 1 and content[0]["type"] == "text":
        out.append({"role": "user", "content": content[0]["text"]})
    elif content:
        out.append({"role": "user", "content": content})


def _tool_message(part: ToolResultPart, ctx: TranslationContext, where: str) -> dict:
    texts = []
    for item in part.content:
        if isinstance(item, ImagePart):
            raise UnsupportedFeature(
                f"{where}: images inside tool results cannot be sent to OpenAI Chat"
            )
        texts.append(item.text)
    if part.is_error and texts:
        texts[0] = f"Error: {texts[0]}"
    elif part.is_error:
        texts = ["Error"]
    return {
        "role": "tool",
        "tool_call_id": ctx.call_id_out(part.call_id),
        "content": texts[0] if len(texts) == 1 else [{"type": "text", "text": t} for t in texts],
    }


def _encode_assistant(msg: Message, ctx: TranslationContext) -> dict:
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict] = []
    for part in msg.parts:
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, ToolCallPart):
            function = {"name": ctx.tool_name_out(part.name), "arguments": part.arguments}
            calls.append({"id": ctx.call_id_out(part.id), "type": "function", "function": function})
        elif isinstance(part, ReasoningPart) and part.source is FMT and part.text:
            reasoning.append(part.text)
    out: dict = {"role": "assistant"}
    if len(texts) == 1:
        out["content"] = texts[0]
    elif texts:
        out["content"] = [{"type": "text", "text": t} for t in texts]
    else:
        out["content"] = None
    if reasoning:
        out["reasoning_content"] = "".join(reasoning)
    if calls:
        out["tool_calls"] = calls
    return out
