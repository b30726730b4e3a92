"""Anthropic Messages codec."""

from __future__ import annotations

import json
from typing import Any

from router.formats.codec import (
    Codec,
    dumps,
    effort_to_budget,
    optional,
    parse_arguments,
    require,
    unwrap_signature,
    wrap_signature,
)
from router.formats.context import TranslationContext
from router.formats.errors import (
    ANTHROPIC_TYPE,
    ErrorKind,
    FormatError,
    UnsupportedFeature,
)
from router.formats.features import cannot_express, check_target, note_unknown
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
from router.formats.sse import SSEEvent

FMT = Format.ANTHROPIC
MIN_THINKING_BUDGET = 1024
FORCED = ("required", "tool")
JSON_OBJECT_INSTRUCTION = "Respond only with a single valid JSON object and nothing else."

_STOP_IN = {
    "end_turn": StopReason.END_TURN,
    "max_tokens": StopReason.MAX_TOKENS,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "tool_use": StopReason.TOOL_USE,
    "pause_turn": StopReason.END_TURN,
    "refusal": StopReason.CONTENT_FILTER,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
}
_STOP_OUT = {
    StopReason.END_TURN: "end_turn",
    StopReason.MAX_TOKENS: "max_tokens",
    StopReason.STOP_SEQUENCE: "stop_sequence",
    StopReason.TOOL_USE: "tool_use",
    StopReason.CONTENT_FILTER: "refusal",
    StopReason.ERROR: "end_turn",
}
_KIND_BY_TYPE = {v: k for k, v in ANTHROPIC_TYPE.items() if k is not ErrorKind.TIMEOUT}
_UNSUPPORTED_BLOCKS = frozenset(
    {
        "document",
        "search_result",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
        "container_upload",
    }
)


def anthropic_error_body(message: str, kind: ErrorKind) -> dict:
    return {"type": "error", "error": {"type": ANTHROPIC_TYPE[kind], "message": message}}


# ---- request decoding ----------------------------------------------------------------


def _decode_image(block: dict, where: str) -> ImagePart:
    source = require(block, "source", dict, where + ".")
    stype = source.get("type")
    if stype == "base64":
        return ImagePart(
            media_type=require(source, "media_type", str, where + ".source."),
            data=require(source, "data", str, where + ".source."),
        )
    if stype == "url":
        return ImagePart(url=require(source, "url", str, where + ".source."))
    raise UnsupportedFeature(f"{where}.source.type: image source {stype!r} is not supported")


def _decode_result_content(content: Any, where: str) -> list[TextPart | ImagePart]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise FormatError(f"{where}: expected string or array of blocks")
    out: list[TextPart | ImagePart] = []
    for j, block in enumerate(content):
        bwhere = f"{where}[{j}]"
        btype = block.get("type") if isinstance(block, dict) else None
        if btype == "text":
            out.append(TextPart(require(block, "text", str, bwhere + ".")))
        elif btype == "image":
            out.append(_decode_image(block, bwhere))
        else:
            raise FormatError(f"{bwhere}.type: unsupported tool result block {btype!r}")
    return out


def _decode_blocks(content: Any, where: str, client: Format) -> list:
    """Content blocks -> IR parts. `client` is FMT when decoding a client request (foreign
    signatures are unwrapped) and is also FMT for upstream answers (raw signatures)."""
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise FormatError(f"{where}: expected string or array of content blocks")
    parts: list = []
    for j, block in enumerate(content):
        bwhere = f"{where}[{j}]"
        if not isinstance(block, dict):
            raise FormatError(f"{bwhere}: expected object")
        btype = block.get("type")
        if btype == "text":
            parts.append(TextPart(require(block, "text", str, bwhere + ".")))
        elif btype == "image":
            parts.append(_decode_image(block, bwhere))
        elif btype == "tool_use":
            tool_input = block.get("input")
            parts.append(
                ToolCallPart(
                    id=require(block, "id", str, bwhere + "."),
                    name=require(block, "name", str, bwhere + "."),
                    arguments=dumps(tool_input) if tool_input is not None else "{}",
                )
            )
        elif btype == "tool_result":
            parts.append(
                ToolResultPart(
                    call_id=require(block, "tool_use_id", str, bwhere + "."),
                    content=_decode_result_content(block.get("content"), bwhere + ".content"),
                    is_error=bool(block.get("is_error")),
                )
            )
        elif btype == "thinking":
            sig, source = unwrap_signature(block.get("signature"), client)
            parts.append(
                ReasoningPart(
                    text=require(block, "thinking", str, bwhere + "."), signature=sig, source=source
                )
            )
        elif btype == "redacted_thinking":
            sig, source = unwrap_signature(require(block, "data", str, bwhere + "."), client)
            parts.append(ReasoningPart(text="", signature=sig, source=source, redacted=True))
        elif btype in _UNSUPPORTED_BLOCKS:
            raise UnsupportedFeature(f"{bwhere}.type: content block {btype!r} is not supported")
        else:
            raise FormatError(f"{bwhere}.type: unknown content block type {btype!r}")
    return parts


def _decode_tools(tools: list) -> list[Tool]:
    out = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise FormatError(f"{where}: expected object")
        ttype = tool.get("type")
        if ttype not in (None, "custom"):
            raise UnsupportedFeature(f"{where}.type: server tool {ttype!r} is not supported")
        out.append(
            Tool(
                name=require(tool, "name", str, where + "."),
                description=optional(tool, "description", str, where + "."),
                parameters=optional(tool, "input_schema", dict, where + ".") or {},
            )
        )
    return out


def _decode_tool_choice(choice: Any) -> tuple[ToolChoice | None, bool | None]:
    if choice is None:
        return None, None
    if not isinstance(choice, dict):
        raise FormatError("tool_choice: expected object")
    ctype = choice.get("type")
    parallel = False if choice.get("disable_parallel_tool_use") else None
    if ctype == "auto":
        return ToolChoice("auto"), parallel
    if ctype == "any":
        return ToolChoice("required"), parallel
    if ctype == "none":
        return ToolChoice("none"), parallel
    if ctype == "tool":
        return ToolChoice("tool", require(choice, "name", str, "tool_choice.")), parallel
    raise FormatError(f"tool_choice.type: unknown value {ctype!r}")


def _decode_thinking(thinking: Any) -> Reasoning | None:
    if thinking is None:
        return None
    if not isinstance(thinking, dict):
        raise FormatError("thinking: expected object")
    ttype = thinking.get("type")
    if ttype == "enabled":
        return Reasoning(
            budget=require(thinking, "budget_tokens", int, "thinking."), include_thoughts=True
        )
    if ttype == "disabled":
        return Reasoning(budget=0)
    if ttype == "adaptive":
        return Reasoning(include_thoughts=True)
    raise FormatError(f"thinking.type: unknown value {ttype!r}")


# Top-level fields of a Messages request, by what translation does with them
# (see router/formats/features.py). Block-level `cache_control` and the `citations` of
# earlier assistant text are dropped too: prompt caching is Anthropic's own, and
# citations annotate text the target still receives.
_TRANSLATED = frozenset(
    {
        "model", "messages", "max_tokens", "system", "stop_sequences", "stream",
        "temperature", "top_p", "top_k", "thinking", "tool_choice", "tools", "metadata",
        "output_config",
    }
)  # fmt: skip
DROPPED_HINTS = {
    "service_tier": "the Anthropic account's capacity tier",
    "speed": "Anthropic's fast inference mode",
    "cache_control": "Anthropic prompt caching (also dropped on every block)",
    "diagnostics": "prompt-cache diagnostics in Anthropic's answer",
    "context_management": "server-side context editing; the target receives the whole "
    "conversation instead",
}
# Accepted when empty only: they need something only Anthropic provides.
_EMPTY_ONLY = {
    "container": "an Anthropic code container",
    "mcp_servers": "remote MCP servers",
    "inference_geo": "a data-residency region for inference",
}
_KNOWN = _TRANSLATED | frozenset(DROPPED_HINTS) | frozenset(_EMPTY_ONLY)


def _untranslatable(body: dict) -> dict[str, str]:
    found = {name: what for name, what in _EMPTY_ONLY.items() if body.get(name)}
    metadata = optional(body, "metadata", dict)
    if metadata:
        note_unknown(metadata, frozenset({"user_id"}), found, "metadata.")
    output_config = optional(body, "output_config", dict)
    if output_config:
        note_unknown(output_config, frozenset({"effort", "format"}), found, "output_config.")
    note_unknown(body, _KNOWN, found)
    return found


def _decode_output_format(output_config: dict) -> ResponseFormat | None:
    fmt = optional(output_config, "format", dict, "output_config.")
    if not fmt:
        return None
    if fmt.get("type") != "json_schema":
        raise FormatError(f"output_config.format.type: unknown value {fmt.get('type')!r}")
    return ResponseFormat(
        "json_schema", schema=require(fmt, "schema", dict, "output_config.format.")
    )


def _decode_reasoning(body: dict, output_config: dict) -> Reasoning | None:
    """`thinking`, else output_config.effort (Anthropic's "max" is the IR's "xhigh")."""
    reasoning = _decode_thinking(body.get("thinking"))
    effort = optional(output_config, "effort", str, "output_config.")
    if reasoning is None and effort:
        return Reasoning(effort="xhigh" if effort == "max" else effort)
    return reasoning


def decode_anthropic_request(body: dict) -> Request:
    if not isinstance(body, dict):
        raise FormatError("request body must be a JSON object")
    raw_messages = require(body, "messages", list)
    messages = []
    for i, msg in enumerate(raw_messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise FormatError(f"{where}: expected object")
        role = msg.get("role")
        if role not in ("user", "assistant"):
            raise FormatError(f"{where}.role: expected 'user' or 'assistant'")
        messages.append(Message(role, _decode_blocks(msg.get("content"), where + ".content", FMT)))
    system_raw = body.get("system")
    system: list[str] = []
    if isinstance(system_raw, str):
        if system_raw:
            system.append(system_raw)
    elif isinstance(system_raw, list):
        for j, block in enumerate(system_raw):
            if not isinstance(block, dict) or block.get("type") != "text":
                raise FormatError(f"system[{j}]: expected text block")
            system.append(require(block, "text", str, f"system[{j}]."))
    elif system_raw is not None:
        raise FormatError("system: expected string or array of text blocks")
    tool_choice, parallel = _decode_tool_choice(body.get("tool_choice"))
    output_config = optional(body, "output_config", dict) or {}
    stop = optional(body, "stop_sequences", list) or []
    if not all(isinstance(s, str) for s in stop):
        raise FormatError("stop_sequences: expected array of strings")
    return Request(
        model=require(body, "model", str),
        messages=messages,
        system=system,
        tools=_decode_tools(optional(body, "tools", list) or []),
        tool_choice=tool_choice,
        parallel_tool_calls=parallel,
        max_tokens=optional(body, "max_tokens", int),
        temperature=optional(body, "temperature", (int, float)),
        top_p=optional(body, "top_p", (int, float)),
        top_k=optional(body, "top_k", int),
        stop=stop,
        stream=bool(optional(body, "stream", bool)),
        reasoning=_decode_reasoning(body, output_config),
        response_format=_decode_output_format(output_config),
        user=optional(optional(body, "metadata", dict) or {}, "user_id", str, "metadata."),
        origin=FMT,
        untranslatable=_untranslatable(body),
    )


# ---- request encoding ----------------------------------------------------------------


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


def _encode_parts(parts: list, ctx: TranslationContext, where: str) -> list[dict]:
    blocks: list[dict] = []
    for part in parts:
        cls = type(part)
        if cls is TextPart:
            if part.text:
                blocks.append({"type": "text", "text": part.text})
        elif cls is ToolCallPart:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": ctx.call_id_out(part.id),
                    "name": ctx.tool_name_out(part.name),
                    "input": parse_arguments(part.arguments, where),
                }
            )
        elif cls is ToolResultPart:
            content: list[dict] = []
            for item in part.content:
                if type(item) is TextPart:
                    content.append({"type": "text", "text": item.text})
                else:
                    content.append(_encode_image(item, where))
            block: dict = {"type": "tool_result", "tool_use_id": ctx.call_id_out(part.call_id)}
            if len(content) == 1 and content[0]["type"] == "text":
                block["content"] = content[0]["text"]
            elif content:
                block["content"] = content
            if part.is_error:
                block["is_error"] = True
            blocks.append(block)
        elif cls is ImagePart:
            blocks.append(_encode_image(part, where))
        elif cls is ReasoningPart and part.source is FMT and part.signature:
            if part.redacted:
                blocks.append({"type": "redacted_thinking", "data": part.signature})
            else:
                blocks.append(
                    {"type": "thinking", "thinking": part.text, "signature": part.signature}
                )
    return blocks


def _thinking_config(req: Request, max_tokens: int) -> tuple[dict | None, int]:
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


def encode_anthropic_request(req: Request, ctx: TranslationContext) -> dict:
    check_target(req, FMT)
    messages: list[dict] = []
    for i, msg in enumerate(req.messages):
        blocks = _encode_parts(msg.parts, ctx, f"messages[{i}]")
        if not blocks:
            continue
        if messages and messages[-1]["role"] == msg.role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": msg.role, "content": blocks})
    max_tokens = req.max_tokens if req.max_tokens is not None else ctx.default_max_tokens
    thinking, max_tokens = _thinking_config(req, max_tokens)
    body: dict = {"model": req.model, "max_tokens": max_tokens, "messages": messages}
    system = list(req.system)
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
    if req.tools:
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
        if tc is not None:
            if tc.mode == "tool":
                choice = {"type": "tool", "name": ctx.tool_name_out(tc.name or "")}
            else:
                choice = {"type": {"auto": "auto", "required": "any", "none": "none"}[tc.mode]}
        if req.parallel_tool_calls is False:
            choice = choice or {"type": "auto"}
            if choice["type"] != "none":
                choice["disable_parallel_tool_use"] = True
        if choice is not None:
            body["tool_choice"] = choice
    thinking_on = thinking is not None and thinking["type"] == "enabled"
    if thinking_on and req.tools and req.tool_choice and req.tool_choice.mode in FORCED:
        raise cannot_express("tool_choice", "a forced tool call while thinking is enabled", FMT)
    if req.temperature is not None and not thinking_on:
        body["temperature"] = req.temperature
    if req.top_p is not None and (not thinking_on or req.top_p >= 0.95):
        body["top_p"] = req.top_p
    if req.top_k is not None and not thinking_on:
        body["top_k"] = req.top_k
    if req.user is not None:
        body["metadata"] = {"user_id": req.user}
    if req.stop:
        body["stop_sequences"] = list(req.stop)
    if thinking is not None:
        body["thinking"] = thinking
    if req.stream:
        body["stream"] = True
    return body


def _object_schema(schema: dict) -> dict:
    if not schema:
        return {"type": "object", "properties": {}}
    if "type" not in schema:
        return {"type": "object", **schema}
    return schema


# ---- responses -----------------------------------------------------------------------


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


def decode_anthropic_response(body: dict, ctx: TranslationContext) -> Response:
    if not isinstance(body, dict):
        raise FormatError("response body must be a JSON object")
    parts = _decode_blocks(require(body, "content", list), "content", FMT)
    for part in parts:
        if isinstance(part, ToolCallPart):
            part.name = ctx.tool_name_in(part.name)
            part.id = ctx.call_id_in(part.id)
    return Response(
        id=body.get("id") or "",
        model=body.get("model") or "",
        parts=parts,
        stop_reason=_STOP_IN.get(body.get("stop_reason") or "end_turn", StopReason.END_TURN),
        stop_sequence=body.get("stop_sequence"),
        usage=decode_anthropic_usage(body.get("usage")),
    )


def _response_block(part: Any) -> dict | None:
    cls = type(part)
    if cls is TextPart:
        return {"type": "text", "text": part.text}
    if cls is ToolCallPart:
        return {
            "type": "tool_use",
            "id": part.id,
            "name": part.name,
            "input": json.loads(part.arguments) if part.arguments else {},
        }
    if cls is ReasoningPart:
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
        "stop_reason": _STOP_OUT[resp.stop_reason],
        "stop_sequence": resp.stop_sequence,
        "usage": encode_anthropic_usage(resp.usage),
    }


# ---- streaming -----------------------------------------------------------------------


class AnthropicStreamDecoder:
    """Anthropic SSE events -> IR stream events."""

    __slots__ = ("_ctx", "_done", "_index", "_map", "_raw_usage", "_stop", "_stop_seq", "_usage")

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._done = False
        self._index = -1
        self._map: dict[int, int] = {}
        self._usage = Usage()
        self._raw_usage: dict = {}
        self._stop = StopReason.END_TURN
        self._stop_seq: str | None = None

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._done:
            return []
        try:
            data = json.loads(event.data)
        except ValueError:
            return []
        etype = data.get("type") if isinstance(data, dict) else None
        if etype == "content_block_delta":
            index = self._map.get(data.get("index"))
            if index is None:
                return []
            delta = data.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                return [TextDelta(index, delta.get("text", ""))]
            if dtype == "input_json_delta":
                return [ToolArgsDelta(index, delta.get("partial_json", ""))]
            if dtype == "thinking_delta":
                return [ReasoningDelta(index, delta.get("thinking", ""))]
            if dtype == "signature_delta":
                return [SignatureDelta(index, delta.get("signature", ""), FMT)]
            return []
        if etype == "content_block_start":
            block = data.get("content_block") or {}
            btype = block.get("type")
            if btype not in ("text", "thinking", "redacted_thinking", "tool_use"):
                return []
            self._index += 1
            index = self._index
            self._map[data.get("index")] = index
            if btype == "text":
                out: list[StreamEvent] = [BlockStart(index, "text")]
                if block.get("text"):
                    out.append(TextDelta(index, block["text"]))
                return out
            if btype == "tool_use":
                ctx = self._ctx
                return [
                    BlockStart(
                        index,
                        "tool_call",
                        id=ctx.call_id_in(block.get("id") or ""),
                        name=ctx.tool_name_in(block.get("name") or ""),
                    )
                ]
            if btype == "thinking":
                out = [BlockStart(index, "reasoning", source=FMT)]
                if block.get("thinking"):
                    out.append(ReasoningDelta(index, block["thinking"]))
                if block.get("signature"):
                    out.append(SignatureDelta(index, block["signature"], FMT))
                return out
            return [
                BlockStart(index, "reasoning", redacted=True, source=FMT),
                SignatureDelta(index, block.get("data") or "", FMT),
            ]
        if etype == "content_block_stop":
            index = self._map.pop(data.get("index"), None)
            return [] if index is None else [BlockStop(index)]
        if etype == "message_start":
            message = data.get("message") or {}
            raw = message.get("usage")
            self._raw_usage = dict(raw) if isinstance(raw, dict) else {}
            self._usage = decode_anthropic_usage(self._raw_usage)
            return [MessageStart(message.get("id") or "", message.get("model") or "", self._usage)]
        if etype == "message_delta":
            delta = data.get("delta") or {}
            if delta.get("stop_reason"):
                self._stop = _STOP_IN.get(delta["stop_reason"], StopReason.END_TURN)
            self._stop_seq = delta.get("stop_sequence")
            self._merge_usage(data.get("usage"))
            return []
        if etype == "message_stop":
            self._done = True
            return [Finish(self._stop, self._usage, self._stop_seq)]
        if etype == "error":
            self._done = True
            err = data.get("error") or {}
            kind = _KIND_BY_TYPE.get(err.get("type"), ErrorKind.API_ERROR)
            status = 529 if kind is ErrorKind.OVERLOADED else 502
            return [StreamError(status, str(err.get("message") or "upstream error"), kind)]
        return []

    def _merge_usage(self, usage: Any) -> None:
        """message_delta usage is cumulative; fields it omits keep their earlier value."""
        if not isinstance(usage, dict):
            return
        raw = self._raw_usage
        raw.update({k: v for k, v in usage.items() if v is not None})
        self._usage = decode_anthropic_usage(raw)

    def close(self) -> list[StreamEvent]:
        if self._done:
            return []
        self._done = True
        return [StreamError(502, "upstream stream ended before completion", ErrorKind.API_ERROR)]


def _event(name: str, payload: str) -> bytes:
    return f"event: {name}\ndata: {payload}\n\n".encode()


class AnthropicStreamEncoder:
    """IR stream events -> Anthropic SSE bytes."""

    __slots__ = ("_ctx", "_pending_redacted", "_signed", "_sources")

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._sources: dict[int, Format] = {}
        self._signed: set[int] = set()
        self._pending_redacted: set[int] = set()

    def encode(self, ev: StreamEvent) -> bytes:
        cls = type(ev)
        if cls is TextDelta:
            return _event(
                "content_block_delta",
                f'{{"type":"content_block_delta","index":{ev.index},'
                f'"delta":{{"type":"text_delta","text":{dumps(ev.text)}}}}}',
            )
        if cls is ToolArgsDelta:
            return _event(
                "content_block_delta",
                f'{{"type":"content_block_delta","index":{ev.index},'
                f'"delta":{{"type":"input_json_delta","partial_json":{dumps(ev.partial_json)}}}}}',
            )
        if cls is ReasoningDelta:
            return _event(
                "content_block_delta",
                f'{{"type":"content_block_delta","index":{ev.index},'
                f'"delta":{{"type":"thinking_delta","thinking":{dumps(ev.text)}}}}}',
            )
        if cls is BlockStart:
            return self._block_start(ev)
        if cls is BlockStop:
            out = b""
            source = self._sources.pop(ev.index, None)
            if source is not None and ev.index not in self._signed:
                out = self._signature(ev.index, wrap_signature("", source, FMT))
            self._signed.discard(ev.index)
            return out + _event(
                "content_block_stop", f'{{"type":"content_block_stop","index":{ev.index}}}'
            )
        if cls is SignatureDelta:
            signature = wrap_signature(ev.signature, ev.source, FMT)
            if ev.index in self._pending_redacted:
                self._pending_redacted.discard(ev.index)
                self._signed.add(ev.index)
                block = {"type": "redacted_thinking", "data": signature}
                return self._start(ev.index, block)
            self._signed.add(ev.index)
            return self._signature(ev.index, signature)
        if cls is MessageStart:
            message = {
                "id": f"msg_{self._ctx.request_id}",
                "type": "message",
                "role": "assistant",
                "model": self._ctx.client_model or ev.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": encode_anthropic_usage(ev.usage or Usage()),
            }
            return _event("message_start", dumps({"type": "message_start", "message": message}))
        if cls is Finish:
            delta = {
                "type": "message_delta",
                "delta": {
                    "stop_reason": _STOP_OUT[ev.stop_reason],
                    "stop_sequence": ev.stop_sequence,
                },
                "usage": encode_anthropic_usage(ev.usage),
            }
            return _event("message_delta", dumps(delta)) + _event(
                "message_stop", '{"type":"message_stop"}'
            )
        if cls is StreamError:
            return _event("error", dumps(anthropic_error_body(ev.message, ev.kind)))
        return b""

    def _start(self, index: int, block: dict) -> bytes:
        return _event(
            "content_block_start",
            f'{{"type":"content_block_start","index":{index},"content_block":{dumps(block)}}}',
        )

    def _signature(self, index: int, signature: str) -> bytes:
        return _event(
            "content_block_delta",
            f'{{"type":"content_block_delta","index":{index},'
            f'"delta":{{"type":"signature_delta","signature":{dumps(signature)}}}}}',
        )

    def _block_start(self, ev: BlockStart) -> bytes:
        if ev.kind == "text":
            return self._start(ev.index, {"type": "text", "text": ""})
        if ev.kind == "tool_call":
            block = {"type": "tool_use", "id": ev.id, "name": ev.name, "input": {}}
            return self._start(ev.index, block)
        source = ev.source or FMT
        if ev.redacted and source is FMT:
            self._pending_redacted.add(ev.index)
            return b""
        if source is not FMT:
            self._sources[ev.index] = source
        return self._start(ev.index, {"type": "thinking", "thinking": "", "signature": ""})

    def finish(self) -> bytes:
        return b""


class AnthropicCodec(Codec):
    format = FMT

    def decode_request(self, body: dict) -> Request:
        return decode_anthropic_request(body)

    def encode_request(self, req: Request, ctx: TranslationContext) -> dict:
        return encode_anthropic_request(req, ctx)

    def decode_response(self, body: dict, ctx: TranslationContext) -> Response:
        return decode_anthropic_response(body, ctx)

    def encode_response(self, resp: Response, ctx: TranslationContext) -> dict:
        return encode_anthropic_response(resp, ctx)

    def stream_decoder(self, ctx: TranslationContext) -> AnthropicStreamDecoder:
        return AnthropicStreamDecoder(ctx)

    def stream_encoder(self, ctx: TranslationContext) -> AnthropicStreamEncoder:
        return AnthropicStreamEncoder(ctx)

    def encode_error(self, status: int, message: str, kind: ErrorKind) -> dict:
        return anthropic_error_body(message, kind)

    def encode_stream_error(self, status: int, message: str, kind: ErrorKind) -> bytes:
        return _event("error", dumps(anthropic_error_body(message, kind)))
