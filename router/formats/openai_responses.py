"""OpenAI Responses codec."""

from __future__ import annotations

import json
from typing import Any

from router.formats.codec import (
    Codec,
    budget_to_effort,
    dumps,
    optional,
    parse_data_url,
    require,
    unwrap_signature,
    wrap_signature,
)
from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind, FormatError, UnsupportedFeature
from router.formats.features import cannot_express, check_target, client_field, note_unknown
from router.formats.ir import (
    BlockStart,
    BlockStop,
    Finish,
    Format,
    ImagePart,
    Message,
    MessageStart,
    Reasoning,
    ReasoningDelta,
    ReasoningPart,
    Request,
    Response,
    ResponseFormat,
    SignatureDelta,
    StopReason,
    StreamError,
    StreamEvent,
    TextDelta,
    TextPart,
    Tool,
    ToolArgsDelta,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    Usage,
)
from router.formats.openai_chat import openai_error_body
from router.formats.sse import SSEEvent

FMT = Format.OPENAI_RESPONSES

# ---- request decoding ----------------------------------------------------------------


def _decode_image(part: dict, where: str) -> ImagePart:
    if part.get("file_id"):
        raise UnsupportedFeature(f"{where}.file_id: uploaded file references are not supported")
    url = require(part, "image_url", str, where + ".")
    detail = optional(part, "detail", str, where + ".")
    inline = parse_data_url(url)
    if inline:
        return ImagePart(media_type=inline[0], data=inline[1], detail=detail)
    return ImagePart(url=url, detail=detail)


def _decode_content(content: Any, where: str) -> list:
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise FormatError(f"{where}: expected string or array of content parts")
    parts: list = []
    for j, part in enumerate(content):
        pwhere = f"{where}[{j}]"
        ptype = part.get("type") if isinstance(part, dict) else None
        if ptype in ("input_text", "output_text", "text"):
            parts.append(TextPart(require(part, "text", str, pwhere + ".")))
        elif ptype == "refusal":
            parts.append(TextPart(require(part, "refusal", str, pwhere + ".")))
        elif ptype == "input_image":
            parts.append(_decode_image(part, pwhere))
        elif ptype in ("input_file", "input_audio"):
            raise UnsupportedFeature(f"{pwhere}.type: content type {ptype!r} is not supported")
        else:
            raise FormatError(f"{pwhere}.type: unknown content type {ptype!r}")
    return parts


def _decode_reasoning_item(item: dict, client: Format) -> ReasoningPart:
    summary = item.get("summary") or []
    texts = [s.get("text", "") for s in summary if isinstance(s, dict)]
    if not texts:
        texts = [c.get("text", "") for c in item.get("content") or () if isinstance(c, dict)]
    signature, source = unwrap_signature(item.get("encrypted_content"), client)
    return ReasoningPart(
        text="\n\n".join(texts), signature=signature, source=source, item_id=item.get("id")
    )


def _assistant(messages: list[Message]) -> Message:
    if messages and messages[-1].role == "assistant":
        return messages[-1]
    messages.append(Message("assistant", []))
    return messages[-1]


# Top-level fields of a Responses request, by what translation does with them
# (see router/formats/features.py).
_TRANSLATED = frozenset(
    {
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls",
        "max_output_tokens", "temperature", "top_p", "stream", "reasoning", "text", "user",
        "safety_identifier", "previous_response_id", "include",
    }
)  # fmt: skip
DROPPED_HINTS = {
    "store": "whether OpenAI keeps the response; a translated upstream stores nothing",
    "metadata": "tags for OpenAI's stored responses",
    "service_tier": "the OpenAI account's processing tier",
    "prompt_cache_key": "a prompt-cache routing hint",
    "prompt_cache_retention": "a prompt-cache retention hint",
    "prompt_cache_options": "prompt-cache breakpoints",
    "stream_options": "stream obfuscation padding",
    "max_tool_calls": "a cap on built-in tool calls, which translation never sends",
    "background_options": "options of background mode, which translation rejects",
    "context_management": "server-side compaction; the target receives the whole "
    "conversation instead",
}
# Accepted at their default value only; anything else no other format can express.
_DEFAULT_ONLY = frozenset(
    {
        "top_logprobs", "truncation", "background", "conversation", "prompt", "moderation",
        "access_programs", "image",
    }
)  # fmt: skip
_SET_ONLY_HERE = {
    "conversation": "a conversation stored upstream",
    "prompt": "a prompt template stored upstream",
    "moderation": "OpenAI's moderation of input and output",
    "access_programs": "OpenAI access programs",
    "image": "OpenAI image options",
}
_KNOWN = _TRANSLATED | frozenset(DROPPED_HINTS) | _DEFAULT_ONLY
# `include` asks for extra output; only log probabilities would be lost in translation.
_INCLUDE_LOGPROBS = "message.output_text.logprobs"


def _untranslatable(body: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    if optional(body, "top_logprobs", int):
        found["top_logprobs"] = "log probabilities"
    if _INCLUDE_LOGPROBS in (optional(body, "include", list) or ()):
        found["include"] = f"{_INCLUDE_LOGPROBS!r} (log probabilities)"
    truncation = optional(body, "truncation", str)
    if truncation not in (None, "disabled"):
        found["truncation"] = "automatic truncation of the conversation by the upstream"
    if optional(body, "background", bool):
        found["background"] = "a background (stored, polled) response"
    for name, what in _SET_ONLY_HERE.items():
        if body.get(name) is not None:
            found[name] = what
    text = optional(body, "text", dict)
    if text:
        note_unknown(text, frozenset({"format", "verbosity"}), found, "text.")
    note_unknown(body, _KNOWN, found)
    return found


def decode_responses_request(body: dict) -> Request:
    if not isinstance(body, dict):
        raise FormatError("request body must be a JSON object")
    system: list[str] = []
    instructions = optional(body, "instructions", str)
    if instructions:
        system.append(instructions)
    raw_input = body.get("input")
    messages: list[Message] = []
    if isinstance(raw_input, str):
        messages.append(Message("user", [TextPart(raw_input)]))
    elif isinstance(raw_input, list):
        for i, item in enumerate(raw_input):
            where = f"input[{i}]"
            if not isinstance(item, dict):
                raise FormatError(f"{where}: expected object")
            itype = item.get("type", "message")
            if itype == "message":
                role = item.get("role")
                parts = _decode_content(item.get("content"), where + ".content")
                if role in ("system", "developer"):
                    for p in parts:
                        if not isinstance(p, TextPart):
                            raise FormatError(f"{where}.content: system content must be text")
                        system.append(p.text)
                elif role == "user":
                    messages.append(Message("user", parts))
                elif role == "assistant":
                    _assistant(messages).parts.extend(parts)
                else:
                    raise FormatError(f"{where}.role: unknown role {role!r}")
            elif itype == "function_call":
                _assistant(messages).parts.append(
                    ToolCallPart(
                        id=require(item, "call_id", str, where + "."),
                        name=require(item, "name", str, where + "."),
                        arguments=optional(item, "arguments", str, where + ".") or "",
                    )
                )
            elif itype == "function_call_output":
                output = item.get("output")
                content = _decode_content(output if output is not None else "", where + ".output")
                result = ToolResultPart(
                    call_id=require(item, "call_id", str, where + "."), content=content
                )
                last = messages[-1] if messages else None
                if (
                    last
                    and last.role == "user"
                    and all(isinstance(p, ToolResultPart) for p in last.parts)
                ):
                    last.parts.append(result)
                else:
                    messages.append(Message("user", [result]))
            elif itype == "reasoning":
                _assistant(messages).parts.append(_decode_reasoning_item(item, FMT))
            else:
                raise UnsupportedFeature(
                    f"{where}.type: input item type {itype!r} is not supported"
                )
    elif raw_input is not None:
        raise FormatError("input: expected string or array of items")
    tools = []
    for i, tool in enumerate(optional(body, "tools", list) or []):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise FormatError(f"{where}: expected object")
        if tool.get("type") != "function":
            raise UnsupportedFeature(
                f"{where}.type: tool type {tool.get('type')!r} is not supported"
            )
        tools.append(
            Tool(
                name=require(tool, "name", str, where + "."),
                description=optional(tool, "description", str, where + "."),
                parameters=optional(tool, "parameters", dict, where + ".") or {},
            )
        )
    choice = body.get("tool_choice")
    tool_choice = None
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise FormatError(f"tool_choice: unknown value {choice!r}")
        tool_choice = ToolChoice(choice)
    elif isinstance(choice, dict):
        if choice.get("type") != "function":
            raise UnsupportedFeature("tool_choice.type: only function tool choices are supported")
        tool_choice = ToolChoice("tool", require(choice, "name", str, "tool_choice."))
    elif choice is not None:
        raise FormatError("tool_choice: expected string or object")
    reasoning = None
    raw_reasoning = optional(body, "reasoning", dict)
    if raw_reasoning:
        summary = raw_reasoning.get("summary")
        reasoning = Reasoning(
            effort=optional(raw_reasoning, "effort", str, "reasoning."),
            include_thoughts=True if summary in ("auto", "concise", "detailed") else None,
        )
    response_format = None
    text = optional(body, "text", dict)
    fmt = optional(text, "format", dict, "text.") if text else None
    if fmt:
        ftype = fmt.get("type")
        if ftype == "json_object":
            response_format = ResponseFormat("json_object")
        elif ftype == "json_schema":
            response_format = ResponseFormat(
                "json_schema",
                schema=optional(fmt, "schema", dict, "text.format.") or {},
                name=optional(fmt, "name", str, "text.format."),
                strict=optional(fmt, "strict", bool, "text.format."),
            )
        elif ftype != "text":
            raise FormatError(f"text.format.type: unknown value {ftype!r}")
    return Request(
        model=require(body, "model", str),
        messages=messages,
        system=system,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=optional(body, "parallel_tool_calls", bool),
        max_tokens=optional(body, "max_output_tokens", int),
        temperature=optional(body, "temperature", (int, float)),
        top_p=optional(body, "top_p", (int, float)),
        stream=bool(optional(body, "stream", bool)),
        reasoning=reasoning,
        response_format=response_format,
        user=optional(body, "safety_identifier", str) or optional(body, "user", str),
        verbosity=optional(text, "verbosity", str, "text.") if text else None,
        previous_response_id=optional(body, "previous_response_id", str),
        origin=FMT,
        untranslatable=_untranslatable(body),
    )


# ---- request encoding ----------------------------------------------------------------


def _image(part: ImagePart, where: str) -> dict:
    if part.file_ref:
        raise UnsupportedFeature(f"{where}: provider file references cannot be sent to OpenAI")
    url = (
        part.url
        if part.data is None
        else f"data:{part.media_type or 'image/png'};base64,{part.data}"
    )
    return {"type": "input_image", "image_url": url, "detail": part.detail or "auto"}


def _reasoning_item(part: ReasoningPart, item_id: str | None) -> dict:
    item: dict = {"type": "reasoning"}
    if item_id:
        item["id"] = item_id
    item["summary"] = [{"type": "summary_text", "text": part.text}] if part.text else []
    return item


def encode_responses_request(req: Request, ctx: TranslationContext) -> dict:
    check_target(req, FMT)
    items: list[dict] = []
    for i, msg in enumerate(req.messages):
        where = f"messages[{i}]"
        if msg.role == "assistant":
            for part in msg.parts:
                cls = type(part)
                if cls is TextPart:
                    items.append(
                        {
                            "type": "message",
                            "role": "assistant",
                            "content": [{"type": "output_text", "text": part.text}],
                        }
                    )
                elif cls is ToolCallPart:
                    items.append(
                        {
                            "type": "function_call",
                            "call_id": ctx.call_id_out(part.id),
                            "name": ctx.tool_name_out(part.name),
                            "arguments": part.arguments,
                        }
                    )
                elif cls is ReasoningPart and part.source is FMT:
                    item = _reasoning_item(part, part.item_id)
                    if part.signature:
                        item["encrypted_content"] = part.signature
                    items.append(item)
            continue
        content: list[dict] = []
        for part in msg.parts:
            cls = type(part)
            if cls is ToolResultPart:
                output: Any
                if all(type(c) is TextPart for c in part.content) and len(part.content) <= 1:
                    output = part.content[0].text if part.content else ""
                else:
                    output = [
                        {"type": "input_text", "text": c.text}
                        if type(c) is TextPart
                        else _image(c, where)
                        for c in part.content
                    ]
                if part.is_error:
                    output = f"Error: {output}" if isinstance(output, str) else output
                items.append(
                    {
                        "type": "function_call_output",
                        "call_id": ctx.call_id_out(part.call_id),
                        "output": output,
                    }
                )
            elif cls is TextPart:
                content.append({"type": "input_text", "text": part.text})
            elif cls is ImagePart:
                content.append(_image(part, where))
        if content:
            items.append({"type": "message", "role": "user", "content": content})
    body: dict = {"model": req.model, "input": items}
    if req.system:
        body["instructions"] = "\n\n".join(req.system)
    if req.tools:
        body["tools"] = [
            {
                "type": "function",
                "name": ctx.tool_name_out(t.name),
                **({"description": t.description} if t.description is not None else {}),
                "parameters": t.parameters or {"type": "object", "properties": {}},
                "strict": False,
            }
            for t in req.tools
        ]
    tc = req.tool_choice
    if tc is not None:
        body["tool_choice"] = (
            {"type": "function", "name": ctx.tool_name_out(tc.name or "")}
            if tc.mode == "tool"
            else tc.mode
        )
    if req.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = req.parallel_tool_calls
    if req.max_tokens is not None:
        body["max_output_tokens"] = req.max_tokens
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.stop:
        raise cannot_express(client_field(req, "stop"), "stop sequences", FMT)
    if req.reasoning is not None:
        r = req.reasoning
        reasoning: dict = {}
        effort = r.effort or (budget_to_effort(r.budget) if r.budget is not None else None)
        if effort:
            reasoning["effort"] = effort
        if r.include_thoughts:
            reasoning["summary"] = "auto"
        if reasoning:
            body["reasoning"] = reasoning
    text: dict = {}
    rf = req.response_format
    if rf is not None:
        if rf.type == "json_object":
            text["format"] = {"type": "json_object"}
        else:
            fmt: dict = {"type": "json_schema", "name": rf.name or "response", "schema": rf.schema}
            if rf.strict is not None:
                fmt["strict"] = rf.strict
            text["format"] = fmt
    if req.verbosity is not None:
        text["verbosity"] = req.verbosity
    if text:
        body["text"] = text
    if req.user is not None:
        body["safety_identifier"] = req.user
    if req.previous_response_id is not None:
        body["previous_response_id"] = req.previous_response_id
    if req.stream:
        body["stream"] = True
    return body


# ---- responses -----------------------------------------------------------------------


def decode_responses_usage(usage: Any) -> Usage:
    if not isinstance(usage, dict):
        return Usage()
    return Usage(
        input_tokens=usage.get("input_tokens") or 0,
        output_tokens=usage.get("output_tokens") or 0,
        cache_read_tokens=(usage.get("input_tokens_details") or {}).get("cached_tokens") or 0,
        cache_creation_tokens=(usage.get("input_tokens_details") or {}).get("cache_write_tokens")
        or 0,
        reasoning_tokens=(usage.get("output_tokens_details") or {}).get("reasoning_tokens") or 0,
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


def _stop_reason(status: str | None, incomplete: Any, has_calls: bool) -> StopReason:
    if status == "incomplete":
        reason = (incomplete or {}).get("reason")
        return StopReason.CONTENT_FILTER if reason == "content_filter" else StopReason.MAX_TOKENS
    if status == "failed":
        return StopReason.ERROR
    return StopReason.TOOL_USE if has_calls else StopReason.END_TURN


def decode_responses_response(body: dict, ctx: TranslationContext) -> Response:
    if not isinstance(body, dict):
        raise FormatError("response body must be a JSON object")
    parts: list = []
    for item in require(body, "output", list):
        if not isinstance(item, dict):
            continue
        itype = item.get("type")
        if itype == "message":
            parts.extend(_decode_content(item.get("content") or [], "output.content"))
        elif itype == "function_call":
            parts.append(
                ToolCallPart(
                    id=ctx.call_id_in(item.get("call_id") or ""),
                    name=ctx.tool_name_in(item.get("name") or ""),
                    arguments=item.get("arguments") or "",
                )
            )
        elif itype == "reasoning":
            part = _decode_reasoning_item(item, FMT)
            part.source = FMT
            parts.append(part)
    has_calls = any(isinstance(p, ToolCallPart) for p in parts)
    return Response(
        id=body.get("id") or "",
        model=body.get("model") or "",
        parts=parts,
        stop_reason=_stop_reason(body.get("status"), body.get("incomplete_details"), has_calls),
        usage=decode_responses_usage(body.get("usage")),
    )


def _base_response(ctx: TranslationContext, status: str) -> dict:
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


def _finish_fields(resp: dict, stop: StopReason, usage: Usage) -> None:
    if stop is StopReason.MAX_TOKENS:
        resp["status"] = "incomplete"
        resp["incomplete_details"] = {"reason": "max_output_tokens"}
    elif stop is StopReason.CONTENT_FILTER:
        resp["status"] = "incomplete"
        resp["incomplete_details"] = {"reason": "content_filter"}
    else:
        resp["status"] = "completed"
    resp["usage"] = encode_responses_usage(usage)


def _message_item(item_id: str, text: str) -> dict:
    return {
        "id": item_id,
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _function_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def _reasoning_out(item_id: str, text: str, signature: str | None) -> dict:
    item = {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text}] if text else [],
    }
    if signature is not None:
        item["encrypted_content"] = signature
    return item


def encode_responses_response(resp: Response, ctx: TranslationContext) -> dict:
    out = _base_response(ctx, "completed")
    rid = ctx.request_id
    output = out["output"]
    for n, part in enumerate(resp.parts):
        cls = type(part)
        if cls is TextPart:
            output.append(_message_item(f"msg_{rid}_{n}", part.text))
        elif cls is ToolCallPart:
            output.append(
                _function_item(f"fc_{rid}_{n}", part.id, part.name, part.arguments, "completed")
            )
        elif cls is ReasoningPart:
            item_id = part.item_id if part.source is FMT and part.item_id else f"rs_{rid}_{n}"
            signature = wrap_signature(part.signature, part.source, FMT)
            output.append(_reasoning_out(item_id, part.text, signature or None))
    _finish_fields(out, resp.stop_reason, resp.usage)
    return out


# ---- streaming -----------------------------------------------------------------------


class ResponsesStreamDecoder:
    """Responses API SSE events -> IR stream events."""

    __slots__ = ("_args_seen", "_ctx", "_done", "_has_calls", "_index", "_kind", "_summaries")

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._done = False
        self._index = -1
        self._kind: str | None = None
        self._args_seen = False
        self._has_calls = False
        self._summaries = 0

    def _open(self, out: list, kind: str, **kw: Any) -> None:
        if self._kind is not None:
            out.append(BlockStop(self._index))
        self._index += 1
        self._kind = kind
        out.append(BlockStart(self._index, kind, **kw))

    def _close(self, out: list) -> None:
        if self._kind is not None:
            out.append(BlockStop(self._index))
            self._kind = None

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._done:
            return []
        try:
            data = json.loads(event.data)
        except ValueError:
            return []
        if not isinstance(data, dict):
            return []
        etype = data.get("type") or event.event
        out: list[StreamEvent] = []
        if etype in ("response.output_text.delta", "response.refusal.delta"):
            if self._kind != "text":
                self._open(out, "text")
            out.append(TextDelta(self._index, data.get("delta") or ""))
        elif etype == "response.function_call_arguments.delta":
            if self._kind == "tool_call":
                self._args_seen = True
                out.append(ToolArgsDelta(self._index, data.get("delta") or ""))
        elif etype in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            if self._kind != "reasoning":
                self._open(out, "reasoning", source=FMT)
            out.append(ReasoningDelta(self._index, data.get("delta") or ""))
        elif etype == "response.reasoning_summary_part.added":
            if self._kind == "reasoning" and self._summaries:
                out.append(ReasoningDelta(self._index, "\n\n"))
            self._summaries += 1
        elif etype == "response.output_item.added":
            item = data.get("item") or {}
            itype = item.get("type")
            if itype == "function_call":
                ctx = self._ctx
                self._has_calls = True
                self._args_seen = False
                self._open(
                    out,
                    "tool_call",
                    id=ctx.call_id_in(item.get("call_id") or ""),
                    name=ctx.tool_name_in(item.get("name") or ""),
                )
            elif itype == "reasoning":
                self._summaries = 0
                self._open(out, "reasoning", source=FMT)
        elif etype == "response.content_part.added":
            if (data.get("part") or {}).get("type") in ("output_text", "refusal"):
                self._open(out, "text")
        elif etype == "response.output_item.done":
            item = data.get("item") or {}
            itype = item.get("type")
            if itype == "function_call" and self._kind == "tool_call" and not self._args_seen:
                if item.get("arguments"):
                    out.append(ToolArgsDelta(self._index, item["arguments"]))
            elif itype == "reasoning" and item.get("encrypted_content"):
                if self._kind != "reasoning":
                    self._open(out, "reasoning", source=FMT)
                out.append(SignatureDelta(self._index, item["encrypted_content"], FMT))
            self._close(out)
        elif etype == "response.created":
            resp = data.get("response") or {}
            out.append(MessageStart(resp.get("id") or "", resp.get("model") or ""))
        elif etype in ("response.completed", "response.incomplete"):
            self._done = True
            self._close(out)
            resp = data.get("response") or {}
            stop = _stop_reason(resp.get("status"), resp.get("incomplete_details"), self._has_calls)
            out.append(Finish(stop, decode_responses_usage(resp.get("usage"))))
        elif etype in ("response.failed", "error"):
            self._done = True
            err = data.get("error") or (data.get("response") or {}).get("error") or data
            message = str(err.get("message") or "upstream response failed")
            out.append(StreamError(502, message, ErrorKind.API_ERROR))
        return out

    def close(self) -> list[StreamEvent]:
        if self._done:
            return []
        self._done = True
        return [
            StreamError(502, "upstream stream ended before response.completed", ErrorKind.API_ERROR)
        ]


class ResponsesStreamEncoder:
    """IR stream events -> Responses API SSE bytes (every event has a sequence_number)."""

    __slots__ = (
        "_ctx",
        "_errored",
        "_item",
        "_item_id",
        "_kind",
        "_output",
        "_seq",
        "_signature",
        "_text",
        "_tool",
    )

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._seq = 0
        self._output: list[dict] = []
        self._kind: str | None = None
        self._item_id = ""
        self._text: list[str] = []
        self._tool: tuple[str, str] = ("", "")
        self._signature: str | None = None
        self._errored = False

    def _emit(self, etype: str, body: str) -> bytes:
        seq = self._seq
        self._seq += 1
        return (
            f'event: {etype}\ndata: {{"type":"{etype}","sequence_number":{seq},{body}}}\n\n'
        ).encode()

    def encode(self, ev: StreamEvent) -> bytes:
        cls = type(ev)
        if cls is TextDelta:
            self._text.append(ev.text)
            return self._emit(
                "response.output_text.delta",
                f'"item_id":"{self._item_id}","output_index":{len(self._output)},'
                f'"content_index":0,"delta":{dumps(ev.text)},"logprobs":[]',
            )
        if cls is ToolArgsDelta:
            self._text.append(ev.partial_json)
            return self._emit(
                "response.function_call_arguments.delta",
                f'"item_id":"{self._item_id}","output_index":{len(self._output)},'
                f'"delta":{dumps(ev.partial_json)}',
            )
        if cls is ReasoningDelta:
            self._text.append(ev.text)
            return self._emit(
                "response.reasoning_summary_text.delta",
                f'"item_id":"{self._item_id}","output_index":{len(self._output)},'
                f'"summary_index":0,"delta":{dumps(ev.text)}',
            )
        if cls is BlockStart:
            return self._start(ev)
        if cls is BlockStop:
            return self._stop()
        if cls is SignatureDelta:
            self._signature = wrap_signature(ev.signature, ev.source, FMT)
            return b""
        if cls is MessageStart:
            resp = dumps(_base_response(self._ctx, "in_progress"))
            return self._emit("response.created", f'"response":{resp}') + self._emit(
                "response.in_progress", f'"response":{resp}'
            )
        if cls is Finish:
            resp = _base_response(self._ctx, "completed")
            resp["output"] = self._output
            _finish_fields(resp, ev.stop_reason, ev.usage)
            name = "response.completed" if resp["status"] == "completed" else "response.incomplete"
            return self._emit(name, f'"response":{dumps(resp)}')
        if cls is StreamError:
            return self._error(ev.message, ev.kind)
        return b""

    def _error(self, message: str, kind: ErrorKind) -> bytes:
        self._errored = True
        err = openai_error_body(message, kind)["error"]
        resp = _base_response(self._ctx, "failed")
        resp["output"] = self._output
        resp["error"] = {"code": err["code"], "message": message}
        return self._emit(
            "error", f'"code":{dumps(err["code"])},"message":{dumps(message)},"param":null'
        ) + self._emit("response.failed", f'"response":{dumps(resp)}')

    def _added(self, item: dict) -> bytes:
        return self._emit(
            "response.output_item.added",
            f'"output_index":{len(self._output)},"item":{dumps(item)}',
        )

    def _start(self, ev: BlockStart) -> bytes:
        rid = self._ctx.request_id
        n = len(self._output)
        self._kind = ev.kind
        self._text = []
        if ev.kind == "text":
            self._item_id = f"msg_{rid}_{n}"
            item = {
                "id": self._item_id,
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
            part = '{"type":"output_text","text":"","annotations":[]}'
            return self._added(item) + self._emit(
                "response.content_part.added",
                f'"item_id":"{self._item_id}","output_index":{n},"content_index":0,"part":{part}',
            )
        if ev.kind == "tool_call":
            self._item_id = f"fc_{rid}_{n}"
            self._tool = (ev.id or "", ev.name or "")
            return self._added(
                _function_item(self._item_id, ev.id or "", ev.name or "", "", "in_progress")
            )
        self._item_id = f"rs_{rid}_{n}"
        self._signature = None
        if ev.source is not None and ev.source is not FMT:
            self._signature = wrap_signature("", ev.source, FMT)
        part = '{"type":"summary_text","text":""}'
        return self._added({"id": self._item_id, "type": "reasoning", "summary": []}) + self._emit(
            "response.reasoning_summary_part.added",
            f'"item_id":"{self._item_id}","output_index":{n},"summary_index":0,"part":{part}',
        )

    def _stop(self) -> bytes:
        n = len(self._output)
        iid = self._item_id
        kind = self._kind
        self._kind = None
        text = "".join(self._text)
        head = f'"item_id":"{iid}","output_index":{n}'
        if kind == "text":
            item = _message_item(iid, text)
            part = dumps(item["content"][0])
            out = self._emit(
                "response.output_text.done",
                f'{head},"content_index":0,"text":{dumps(text)},"logprobs":[]',
            ) + self._emit("response.content_part.done", f'{head},"content_index":0,"part":{part}')
        elif kind == "tool_call":
            call_id, name = self._tool
            item = _function_item(iid, call_id, name, text, "completed")
            out = self._emit(
                "response.function_call_arguments.done",
                f'{head},"name":{dumps(name)},"arguments":{dumps(text)}',
            )
        else:
            item = _reasoning_out(iid, text, self._signature)
            summary = dumps({"type": "summary_text", "text": text})
            out = self._emit(
                "response.reasoning_summary_text.done",
                f'{head},"summary_index":0,"text":{dumps(text)}',
            ) + self._emit(
                "response.reasoning_summary_part.done", f'{head},"summary_index":0,"part":{summary}'
            )
        self._output.append(item)
        return out + self._emit(
            "response.output_item.done", f'"output_index":{n},"item":{dumps(item)}'
        )

    def finish(self) -> bytes:
        return b""


class OpenAIResponsesCodec(Codec):
    format = FMT

    def decode_request(self, body: dict) -> Request:
        return decode_responses_request(body)

    def encode_request(self, req: Request, ctx: TranslationContext) -> dict:
        return encode_responses_request(req, ctx)

    def decode_response(self, body: dict, ctx: TranslationContext) -> Response:
        return decode_responses_response(body, ctx)

    def encode_response(self, resp: Response, ctx: TranslationContext) -> dict:
        return encode_responses_response(resp, ctx)

    def stream_decoder(self, ctx: TranslationContext) -> ResponsesStreamDecoder:
        return ResponsesStreamDecoder(ctx)

    def stream_encoder(self, ctx: TranslationContext) -> ResponsesStreamEncoder:
        return ResponsesStreamEncoder(ctx)

    def encode_error(self, status: int, message: str, kind: ErrorKind) -> dict:
        return openai_error_body(message, kind)

    def encode_stream_error(self, status: int, message: str, kind: ErrorKind) -> bytes:
        """Error before any stream event was sent (sequence numbers start at 0). Mid-stream,
        pass a StreamError to the stream encoder instead so numbering stays consistent."""
        return ResponsesStreamEncoder(TranslationContext())._error(message, kind)
