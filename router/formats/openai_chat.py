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
    inline = parse_data_url(url)
    if inline:
        return ImagePart(media_type=inline[0], data=inline[1])
    return ImagePart(url=url)


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


def _decode_assistant(msg: dict, where: str) -> Message:
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
                id=f"call_{len(parts)}",
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


def decode_chat_request(body: dict) -> Request:
    if not isinstance(body, dict):
        raise FormatError("request body must be a JSON object")
    n = optional(body, "n", int)
    if n is not None and n != 1:
        raise UnsupportedFeature("n: only n=1 is supported")
    if body.get("logprobs") or body.get("top_logprobs"):
        raise UnsupportedFeature("logprobs: log probabilities are not supported")
    raw_messages = require(body, "messages", list)
    system: list[str] = []
    messages: list[Message] = []
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
            messages.append(_decode_assistant(msg, where))
        elif role in ("tool", "function"):
            call_id = msg.get("tool_call_id") or msg.get("name")
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
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    elif stop is not None and not (
        isinstance(stop, list) and all(isinstance(s, str) for s in stop)
    ):
        raise FormatError("stop: expected string or array of strings")
    effort = optional(body, "reasoning_effort", str)
    max_tokens = optional(body, "max_completion_tokens", int)
    if max_tokens is None:
        max_tokens = optional(body, "max_tokens", int)
    return Request(
        model=require(body, "model", str),
        messages=messages,
        system=system,
        tools=_decode_tools(optional(body, "tools", list) or []),
        tool_choice=_decode_tool_choice(body.get("tool_choice")),
        parallel_tool_calls=optional(body, "parallel_tool_calls", bool),
        max_tokens=max_tokens,
        temperature=optional(body, "temperature", (int, float)),
        top_p=optional(body, "top_p", (int, float)),
        stop=stop or [],
        stream=bool(optional(body, "stream", bool)),
        reasoning=Reasoning(effort=effort) if effort else None,
        response_format=_decode_response_format(body.get("response_format")),
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
            content.append({"type": "image_url", "image_url": {"url": _image_url(part, where)}})
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
    if req.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


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


class ChatStreamDecoder:
    """Chat completion chunks -> IR stream events."""

    __slots__ = (
        "_block",
        "_ctx",
        "_done",
        "_finish",
        "_index",
        "_kind",
        "_started",
        "_tools",
        "_usage",
    )

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._started = False
        self._done = False
        self._index = -1
        self._kind: str | None = None
        self._block: int | None = None
        self._tools: dict[int, int] = {}
        self._finish: str | None = None
        self._usage: Usage | None = None

    def _open(self, out: list, kind: str, **kw: Any) -> int:
        if self._kind is not None:
            out.append(BlockStop(self._index))
        self._index += 1
        self._kind = kind
        out.append(BlockStart(self._index, kind, **kw))
        return self._index

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
                self._open(out, "reasoning", source=FMT)
            out.append(ReasoningDelta(self._index, reasoning))
        content = delta.get("content")
        if content:
            if self._kind != "text":
                self._open(out, "text")
            out.append(TextDelta(self._index, content))
        calls = delta.get("tool_calls")
        if calls:
            for call in calls:
                oi = call.get("index", 0)
                fn = call.get("function") or {}
                block = self._tools.get(oi)
                if block is None:
                    ctx = self._ctx
                    block = self._open(
                        out,
                        "tool_call",
                        id=ctx.call_id_in(call.get("id") or f"call_{ctx.request_id}_{oi}"),
                        name=ctx.tool_name_in(fn.get("name") or ""),
                    )
                    self._tools[oi] = block
                args = fn.get("arguments")
                if args and block == self._index:
                    out.append(ToolArgsDelta(block, args))
        finish = choice.get("finish_reason")
        if finish:
            self._finish = finish
        return out

    def _end(self) -> list[StreamEvent]:
        self._done = True
        out: list[StreamEvent] = []
        if not self._started:
            out.append(MessageStart(id="", model=""))
        if self._kind is not None:
            out.append(BlockStop(self._index))
            self._kind = None
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
