"""OpenAI Chat Completions codec."""

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
)
from router.formats.context import TranslationContext
from router.formats.errors import (
    OPENAI_CODE,
    OPENAI_TYPE,
    ErrorKind,
    FormatError,
    UnsupportedFeature,
    kind_for_status,
)
from router.formats.features import check_target, note_unknown
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
from router.formats.sse import SSEEvent, encode_sse

FMT = Format.OPENAI_CHAT

_FINISH_IN = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
}
_FINISH_OUT = {
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


# ---- request decoding ----------------------------------------------------------------


def _text_of(content: Any, where: str) -> list[str]:
    """Text blocks of a system/tool content (string or list of text parts)."""
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        raise FormatError(f"{where}: expected string or array of content parts")
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") != "text":
            raise FormatError(f"{where}[{j}]: only text parts are allowed here")
        texts.append(require(part, "text", str, f"{where}[{j}]."))
    return texts


def _decode_image(part: dict, where: str) -> ImagePart:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        raise FormatError(f"{where}.image_url.url: expected string")
    detail = image.get("detail") if isinstance(image, dict) else None
    if detail is not None and not isinstance(detail, str):
        raise FormatError(f"{where}.image_url.detail: expected string")
    inline = parse_data_url(url)
    if inline:
        return ImagePart(media_type=inline[0], data=inline[1], detail=detail)
    return ImagePart(url=url, detail=detail)


def _decode_user_content(content: Any, where: str) -> list:
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise FormatError(f"{where}: expected string or array of content parts")
    parts: list = []
    for j, part in enumerate(content):
        pwhere = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise FormatError(f"{pwhere}: expected object")
        ptype = part.get("type")
        if ptype == "text":
            parts.append(TextPart(require(part, "text", str, pwhere + ".")))
        elif ptype == "image_url":
            parts.append(_decode_image(part, pwhere))
        elif ptype in ("input_audio", "file"):
            raise UnsupportedFeature(f"{pwhere}: content part type {ptype!r} is not supported")
        else:
            raise FormatError(f"{pwhere}.type: unknown content part type {ptype!r}")
    return parts


def _decode_assistant(msg: dict, where: str, legacy_id: str = "call_0") -> Message:
    parts: list = []
    reasoning = msg.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        parts.append(ReasoningPart(text=reasoning, signature=None, source=FMT))
    content = msg.get("content")
    if isinstance(content, str):
        if content:
            parts.append(TextPart(content))
    elif isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") not in ("text", "refusal"):
                raise FormatError(f"{where}.content[{j}]: expected text part")
            key = "text" if part["type"] == "text" else "refusal"
            parts.append(TextPart(require(part, key, str, f"{where}.content[{j}].")))
    elif content is not None:
        raise FormatError(f"{where}.content: expected string, array or null")
    tool_calls = optional(msg, "tool_calls", list, where + ".")
    for j, call in enumerate(tool_calls or ()):
        cwhere = f"{where}.tool_calls[{j}]"
        if not isinstance(call, dict):
            raise FormatError(f"{cwhere}: expected object")
        fn = require(call, "function", dict, cwhere + ".")
        arguments = fn.get("arguments") or ""
        if not isinstance(arguments, str):
            arguments = dumps(arguments)
        parts.append(
            ToolCallPart(
                id=require(call, "id", str, cwhere + "."),
                name=require(fn, "name", str, cwhere + ".function."),
                arguments=arguments,
            )
        )
    legacy = msg.get("function_call")
    if isinstance(legacy, dict):
        parts.append(
            ToolCallPart(
                id=legacy_id,
                name=require(legacy, "name", str, where + ".function_call."),
                arguments=legacy.get("arguments") or "",
            )
        )
    return Message("assistant", parts)


def _decode_tools(tools: list) -> list[Tool]:
    out = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise FormatError(f"{where}: expected object")
        if tool.get("type", "function") != "function":
            raise UnsupportedFeature(
                f"{where}.type: tool type {tool.get('type')!r} is not supported"
            )
        fn = require(tool, "function", dict, where + ".")
        out.append(
            Tool(
                name=require(fn, "name", str, where + ".function."),
                description=optional(fn, "description", str, where + ".function."),
                parameters=optional(fn, "parameters", dict, where + ".function.") or {},
            )
        )
    return out


def _decode_tool_choice(choice: Any) -> ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise FormatError(f"tool_choice: unknown value {choice!r}")
        return ToolChoice(choice)
    if isinstance(choice, dict):
        fn = choice.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            return ToolChoice("tool", fn["name"])
    raise FormatError("tool_choice: expected 'auto', 'none', 'required' or a function choice")


def _decode_response_format(rf: Any) -> ResponseFormat | None:
    if rf is None:
        return None
    if not isinstance(rf, dict):
        raise FormatError("response_format: expected object")
    rtype = rf.get("type")
    if rtype == "text":
        return None
    if rtype == "json_object":
        return ResponseFormat("json_object")
    if rtype == "json_schema":
        spec = require(rf, "json_schema", dict, "response_format.")
        return ResponseFormat(
            "json_schema",
            schema=optional(spec, "schema", dict, "response_format.json_schema.") or {},
            name=optional(spec, "name", str, "response_format.json_schema."),
            strict=optional(spec, "strict", bool, "response_format.json_schema."),
        )
    raise FormatError(f"response_format.type: unknown value {rtype!r}")


# Top-level fields of a Chat Completions request, by what translation does with them
# (see router/formats/features.py).
_TRANSLATED = frozenset(
    {
        "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens",
        "max_completion_tokens", "temperature", "top_p", "stop", "stream", "stream_options",
        "reasoning_effort", "response_format", "seed", "presence_penalty",
        "frequency_penalty", "logit_bias", "user", "safety_identifier", "verbosity",
        "functions", "function_call",
    }
)  # fmt: skip
# Dropped on purpose: none of them changes what the model generates.
DROPPED_HINTS = {
    "store": "OpenAI's stored completions; a translated upstream stores nothing",
    "metadata": "tags for OpenAI's stored completions",
    "service_tier": "the OpenAI account's processing tier",
    "prompt_cache_key": "a prompt-cache routing hint",
    "prompt_cache_retention": "a prompt-cache retention hint",
    "prompt_cache_options": "prompt-cache breakpoints",
    "prediction": "a latency optimisation; the output is the same without it",
}
# Accepted at their default value only; anything else no other format can express.
_DEFAULT_ONLY = frozenset(
    {"n", "logprobs", "top_logprobs", "modalities", "audio", "web_search_options", "moderation"}
)
_KNOWN = _TRANSLATED | frozenset(DROPPED_HINTS) | _DEFAULT_ONLY


def _untranslatable(body: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    n = optional(body, "n", int)
    if n is not None and n != 1:
        found["n"] = "more than one choice"
    if optional(body, "logprobs", bool) or optional(body, "top_logprobs", int):
        found["logprobs"] = "log probabilities"
    modalities = optional(body, "modalities", list)
    if modalities and any(m != "text" for m in modalities):
        found["modalities"] = "non-text output"
    if body.get("audio") is not None:
        found["audio"] = "audio output"
    if body.get("web_search_options") is not None:
        found["web_search_options"] = "OpenAI's built-in web search"
    if body.get("moderation") is not None:
        found["moderation"] = "OpenAI's moderation of input and output"
    note_unknown(body, _KNOWN, found)
    return found


def _decode_legacy_functions(body: dict) -> tuple[list[Tool], ToolChoice | None]:
    """The deprecated `functions` / `function_call` pair, as tools and a tool choice."""
    functions = optional(body, "functions", list) or []
    tools = _decode_tools([{"type": "function", "function": f} for f in functions])
    choice = body.get("function_call")
    if choice is None:
        return tools, None
    if choice in ("auto", "none"):
        return tools, ToolChoice(choice)
    if isinstance(choice, dict) and isinstance(choice.get("name"), str):
        return tools, ToolChoice("tool", choice["name"])
    raise FormatError("function_call: expected 'auto', 'none' or {\"name\": ...}")


def _decode_stop(body: dict) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        return stop
    raise FormatError("stop: expected string or array of strings")


def decode_chat_request(body: dict) -> Request:
    if not isinstance(body, dict):
        raise FormatError("request body must be a JSON object")
    raw_messages = require(body, "messages", list)
    system: list[str] = []
    messages: list[Message] = []
    legacy_calls: dict[str, str] = {}
    for i, msg in enumerate(raw_messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise FormatError(f"{where}: expected object")
        role = msg.get("role")
        if role in ("system", "developer"):
            system.extend(_text_of(msg.get("content"), where + ".content"))
        elif role == "user":
            messages.append(
                Message("user", _decode_user_content(msg.get("content"), where + ".content"))
            )
        elif role == "assistant":
            message = _decode_assistant(msg, where, f"call_{i}")
            legacy = msg.get("function_call")
            if isinstance(legacy, dict):
                legacy_calls[str(legacy.get("name"))] = f"call_{i}"
            messages.append(message)
        elif role in ("tool", "function"):
            call_id = msg.get("tool_call_id")
            if role == "function" and call_id is None:
                name = msg.get("name")
                call_id = legacy_calls.pop(name, name) if isinstance(name, str) else None
            if not isinstance(call_id, str):
                raise FormatError(f"{where}.tool_call_id: field is required")
            content = msg.get("content")
            texts = _text_of(content if content is not None else "", where + ".content")
            result = ToolResultPart(call_id=call_id, content=[TextPart(t) for t in texts])
            last = messages[-1] if messages else None
            if (
                last
                and last.role == "user"
                and all(isinstance(p, ToolResultPart) for p in last.parts)
            ):
                last.parts.append(result)
            else:
                messages.append(Message("user", [result]))
        else:
            raise FormatError(f"{where}.role: unknown role {role!r}")
    effort = optional(body, "reasoning_effort", str)
    max_tokens = optional(body, "max_completion_tokens", int)
    if max_tokens is None:
        max_tokens = optional(body, "max_tokens", int)
    tools = _decode_tools(optional(body, "tools", list) or [])
    tool_choice = _decode_tool_choice(body.get("tool_choice"))
    legacy_tools, legacy_choice = _decode_legacy_functions(body)
    return Request(
        model=require(body, "model", str),
        messages=messages,
        system=system,
        tools=tools + legacy_tools,
        tool_choice=tool_choice or legacy_choice,
        parallel_tool_calls=optional(body, "parallel_tool_calls", bool),
        max_tokens=max_tokens,
        temperature=optional(body, "temperature", (int, float)),
        top_p=optional(body, "top_p", (int, float)),
        stop=_decode_stop(body),
        stream=bool(optional(body, "stream", bool)),
        reasoning=Reasoning(effort=effort) if effort else None,
        response_format=_decode_response_format(body.get("response_format")),
        seed=optional(body, "seed", int),
        presence_penalty=optional(body, "presence_penalty", (int, float)),
        frequency_penalty=optional(body, "frequency_penalty", (int, float)),
        logit_bias=optional(body, "logit_bias", dict),
        user=optional(body, "safety_identifier", str) or optional(body, "user", str),
        verbosity=optional(body, "verbosity", str),
        origin=FMT,
        untranslatable=_untranslatable(body),
    )


# ---- request encoding ----------------------------------------------------------------


def _image_url(part: ImagePart, where: str) -> str:
    if part.file_ref:
        raise UnsupportedFeature(f"{where}: provider file references cannot be sent to OpenAI")
    if part.data is not None:
        return f"data:{part.media_type or 'image/png'};base64,{part.data}"
    return part.url or ""


def _encode_user(msg: Message, out: list, ctx: TranslationContext, where: str) -> None:
    content: list = []
    for part in msg.parts:
        if isinstance(part, ToolResultPart):
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
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": ctx.call_id_out(part.call_id),
                    "content": texts[0]
                    if len(texts) == 1
                    else [{"type": "text", "text": t} for t in texts],
                }
            )
        elif isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            image = {"url": _image_url(part, where)}
            if part.detail is not None:
                image["detail"] = part.detail
            content.append({"type": "image_url", "image_url": image})
    if content:
        if len(content) == 1 and content[0]["type"] == "text":
            out.append({"role": "user", "content": content[0]["text"]})
        else:
            out.append({"role": "user", "content": content})


def _encode_assistant(msg: Message, ctx: TranslationContext) -> dict:
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict] = []
    for part in msg.parts:
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, ToolCallPart):
            calls.append(
                {
                    "id": ctx.call_id_out(part.id),
                    "type": "function",
                    "function": {"name": ctx.tool_name_out(part.name), "arguments": part.arguments},
                }
            )
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


def encode_chat_request(req: Request, ctx: TranslationContext) -> dict:
    check_target(req, FMT)
    messages: list = []
    if req.system:
        if len(req.system) == 1:
            messages.append({"role": "system", "content": req.system[0]})
        else:
            messages.append(
                {"role": "system", "content": [{"type": "text", "text": t} for t in req.system]}
            )
    for i, msg in enumerate(req.messages):
        if msg.role == "assistant":
            messages.append(_encode_assistant(msg, ctx))
        else:
            _encode_user(msg, messages, ctx, f"messages[{i}]")
    body: dict = {"model": req.model, "messages": messages}
    if req.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": ctx.tool_name_out(t.name),
                    **({"description": t.description} if t.description is not None else {}),
                    "parameters": t.parameters or {"type": "object", "properties": {}},
                },
            }
            for t in req.tools
        ]
    if req.tool_choice is not None:
        tc = req.tool_choice
        body["tool_choice"] = (
            {"type": "function", "function": {"name": ctx.tool_name_out(tc.name or "")}}
            if tc.mode == "tool"
            else tc.mode
        )
    if req.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = req.parallel_tool_calls
    if req.max_tokens is not None:
        body["max_completion_tokens"] = req.max_tokens
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.stop:
        body["stop"] = list(req.stop)
    if req.reasoning is not None:
        r = req.reasoning
        effort = r.effort or (budget_to_effort(r.budget) if r.budget is not None else None)
        if effort:
            body["reasoning_effort"] = effort
    rf = req.response_format
    if rf is not None:
        if rf.type == "json_object":
            body["response_format"] = {"type": "json_object"}
        else:
            spec: dict = {"name": rf.name or "response", "schema": rf.schema or {}}
            if rf.strict is not None:
                spec["strict"] = rf.strict
            body["response_format"] = {"type": "json_schema", "json_schema": spec}
    _encode_sampling(req, body)
    if req.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _encode_sampling(req: Request, body: dict) -> None:
    """The optional knobs that map one to one onto Chat Completions fields."""
    for name in ("seed", "presence_penalty", "frequency_penalty", "logit_bias", "verbosity"):
        value = getattr(req, name)
        if value is not None:
            body[name] = value
    if req.user is not None:
        body["user"] = req.user


# ---- responses -----------------------------------------------------------------------


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
    parts = _decode_assistant(message, "choices[0].message").parts
    for part in parts:
        if isinstance(part, ToolCallPart):
            part.name = ctx.tool_name_in(part.name)
            part.id = ctx.call_id_in(part.id)
    stop = _FINISH_IN.get(choice.get("finish_reason") or "stop", StopReason.END_TURN)
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
                "finish_reason": _FINISH_OUT[resp.stop_reason],
            }
        ],
        "usage": encode_chat_usage(resp.usage),
    }


def _encode_assistant_response(parts: list) -> dict:
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict] = []
    for part in parts:
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, ReasoningPart) and part.text:
            reasoning.append(part.text)
        elif isinstance(part, ToolCallPart):
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


# ---- streaming -----------------------------------------------------------------------


class _StreamedCall:
    """One tool call of a Chat stream, keyed by its `index` in the deltas."""

    __slots__ = ("args", "block", "id", "name")

    def __init__(self, call_id: str, name: str) -> None:
        self.id = call_id
        self.name = name
        self.args: list[str] = []
        self.block: int | None = None


def _complete_json(parts: list[str]) -> bool:
    """Whether the argument text received so far is a whole JSON value (cheap test first:
    an object is only complete once its last character is the closing brace)."""
    text = "".join(parts).rstrip()
    if not text.endswith("}"):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


class ChatStreamDecoder:
    """Chat completion chunks -> IR stream events.

    Tool calls: the IR wants one block at a time, but some upstreams interleave the
    argument deltas of parallel calls (by `index`). The first call streams live; a call
    that starts while the live one's arguments are not yet a whole JSON value is held
    back and its deltas are buffered. A held-back call becomes the live one (its buffer
    emitted as one delta) as soon as the live call's arguments are complete; whatever is
    still held back when the tool calls end is flushed in order. Sequential calls, the
    usual case, therefore all stream live.
    """

    __slots__ = (
        "_calls",
        "_ctx",
        "_done",
        "_finish",
        "_index",
        "_kind",
        "_live",
        "_started",
        "_usage",
        "_waiting",
    )

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._started = False
        self._done = False
        self._index = -1
        self._kind: str | None = None
        self._calls: dict[int, _StreamedCall] = {}
        self._live: _StreamedCall | None = None
        self._waiting: list[_StreamedCall] = []
        self._finish: str | None = None
        self._usage: Usage | None = None

    def _open(self, out: list, kind: str, **kw: Any) -> int:
        self._close(out)
        self._index += 1
        self._kind = kind
        out.append(BlockStart(self._index, kind, **kw))
        return self._index

    def _close(self, out: list) -> None:
        if self._kind is not None:
            out.append(BlockStop(self._index))
            self._kind = None
            self._live = None

    def _go_live(self, out: list, call: _StreamedCall) -> None:
        call.block = self._open(out, "tool_call", id=call.id, name=call.name)
        self._live = call
        if call.args:
            out.append(ToolArgsDelta(call.block, "".join(call.args)))

    def _flush_waiting(self, out: list) -> None:
        """Close the live call and emit every held-back call, in the order they began."""
        self._close(out)
        for call in self._waiting:
            self._go_live(out, call)
            self._close(out)
        self._waiting.clear()

    def _promote(self, out: list) -> None:
        """Make held-back calls live, in order, while the live call's arguments are whole."""
        while self._waiting and (self._live is None or _complete_json(self._live.args)):
            self._go_live(out, self._waiting.pop(0))

    def _tool_delta(self, out: list, call: dict) -> bool:
        """Handle one tool_calls delta; False when it cannot be placed (see below)."""
        oi = call.get("index", 0)
        fn = call.get("function") or {}
        args = fn.get("arguments") or ""
        known = self._calls.get(oi)
        if known is None:
            ctx = self._ctx
            known = _StreamedCall(
                ctx.call_id_in(call.get("id") or f"call_{ctx.request_id}_{oi}"),
                ctx.tool_name_in(fn.get("name") or ""),
            )
            self._calls[oi] = known
            self._waiting.append(known)
        if args:
            known.args.append(args)
            if known is self._live:
                out.append(ToolArgsDelta(self._index, args))
                return True
            if known.block is not None:
                # Its block was already closed (the call looked complete, or text came
                # in between): the IR cannot reopen it, and dropping text would be silent.
                return bool(args.isspace())
        self._promote(out)
        return True

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._done:
            return []
        data = event.data
        if data == "[DONE]":
            return self._end()
        try:
            chunk = json.loads(data)
        except ValueError:
            return []
        if not isinstance(chunk, dict):
            return []
        out: list[StreamEvent] = []
        if "error" in chunk:
            self._done = True
            err = chunk["error"] if isinstance(chunk["error"], dict) else {}
            status = err.get("code") if isinstance(err.get("code"), int) else 502
            return [
                StreamError(
                    status, str(err.get("message") or "upstream error"), kind_for_status(status)
                )
            ]
        if not self._started:
            self._started = True
            out.append(MessageStart(id=chunk.get("id") or "", model=chunk.get("model") or ""))
        usage = chunk.get("usage")
        if usage:
            self._usage = decode_chat_usage(usage)
        choices = chunk.get("choices")
        if not choices:
            return out
        choice = choices[0]
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            if self._kind != "reasoning":
                self._flush_waiting(out)
                self._open(out, "reasoning", source=FMT)
            out.append(ReasoningDelta(self._index, reasoning))
        content = delta.get("content")
        if content:
            if self._kind != "text":
                self._flush_waiting(out)
                self._open(out, "text")
            out.append(TextDelta(self._index, content))
        for call in delta.get("tool_calls") or ():
            if isinstance(call, dict) and not self._tool_delta(out, call):
                self._done = True
                out.append(
                    StreamError(
                        502,
                        "upstream sent arguments for a tool call that had already ended",
                        ErrorKind.API_ERROR,
                    )
                )
                return out
        finish = choice.get("finish_reason")
        if finish:
            self._finish = finish
            self._flush_waiting(out)
        return out

    def _end(self) -> list[StreamEvent]:
        self._done = True
        out: list[StreamEvent] = []
        if not self._started:
            out.append(MessageStart(id="", model=""))
        self._flush_waiting(out)
        stop = _FINISH_IN.get(self._finish or "stop", StopReason.END_TURN)
        out.append(Finish(stop, self._usage or Usage()))
        return out

    def close(self) -> list[StreamEvent]:
        if self._done:
            return []
        if self._finish is not None:
            return self._end()
        self._done = True
        return [StreamError(502, "upstream stream ended before completion", ErrorKind.API_ERROR)]


class ChatStreamEncoder:
    """IR stream events -> chat.completion.chunk SSE bytes."""

    __slots__ = ("_errored", "_prefix", "_tool_index", "_tools")

    def __init__(self, ctx: TranslationContext) -> None:
        head = {
            "id": f"chatcmpl-{ctx.request_id}",
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.client_model,
        }
        self._prefix = dumps(head)[:-1] + ',"choices":[{"index":0,"delta":'
        self._tools: dict[int, int] = {}
        self._tool_index = 0
        self._errored = False

    def _chunk(self, delta: str, finish: str | None = None) -> bytes:
        tail = ',"finish_reason":null}]}' if finish is None else f',"finish_reason":"{finish}"}}]}}'
        return b"data: " + (self._prefix + delta + tail).encode() + b"\n\n"

    def encode(self, ev: StreamEvent) -> bytes:
        cls = type(ev)
        if cls is TextDelta:
            return self._chunk('{"content":' + dumps(ev.text) + "}")
        if cls is ToolArgsDelta:
            k = self._tools[ev.index]
            return self._chunk(
                f'{{"tool_calls":[{{"index":{k},"function":{{"arguments":{dumps(ev.partial_json)}}}}}]}}'
            )
        if cls is ReasoningDelta:
            return self._chunk('{"reasoning_content":' + dumps(ev.text) + "}")
        if cls is BlockStart:
            if ev.kind != "tool_call":
                return b""
            k = self._tool_index
            self._tool_index += 1
            self._tools[ev.index] = k
            call = {
                "index": k,
                "id": ev.id,
                "type": "function",
                "function": {"name": ev.name, "arguments": ""},
            }
            return self._chunk('{"tool_calls":[' + dumps(call) + "]}")
        if cls is MessageStart:
            return self._chunk('{"role":"assistant","content":""}')
        if cls is Finish:
            head = self._prefix[: -len('"choices":[{"index":0,"delta":')]
            usage = head + '"choices":[],"usage":' + dumps(encode_chat_usage(ev.usage)) + "}"
            return self._chunk("{}", _FINISH_OUT[ev.stop_reason]) + encode_sse(usage)
        if cls is StreamError:
            self._errored = True
            return encode_sse(dumps(openai_error_body(ev.message, ev.kind)))
        return b""

    def finish(self) -> bytes:
        return b"" if self._errored else b"data: [DONE]\n\n"


class OpenAIChatCodec(Codec):
    format = FMT

    def decode_request(self, body: dict) -> Request:
        return decode_chat_request(body)

    def encode_request(self, req: Request, ctx: TranslationContext) -> dict:
        return encode_chat_request(req, ctx)

    def decode_response(self, body: dict, ctx: TranslationContext) -> Response:
        return decode_chat_response(body, ctx)

    def encode_response(self, resp: Response, ctx: TranslationContext) -> dict:
        return encode_chat_response(resp, ctx)

    def stream_decoder(self, ctx: TranslationContext) -> ChatStreamDecoder:
        return ChatStreamDecoder(ctx)

    def stream_encoder(self, ctx: TranslationContext) -> ChatStreamEncoder:
        return ChatStreamEncoder(ctx)

    def encode_error(self, status: int, message: str, kind: ErrorKind) -> dict:
        return openai_error_body(message, kind)

    def encode_stream_error(self, status: int, message: str, kind: ErrorKind) -> bytes:
        return encode_sse(dumps(openai_error_body(message, kind)))
