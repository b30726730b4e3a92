"""OpenAI Chat Completions requests as clients send them -> IR Request."""

from __future__ import annotations

from typing import Any

from router.formats.codec import (
    append_tool_result,
    dumps,
    image_at,
    openai_choice_mode,
    optional,
    require,
)
from router.formats.errors import FormatError, UnsupportedFeature
from router.formats.ir import (
    Format,
    ImagePart,
    Message,
    Part,
    Reasoning,
    ReasoningPart,
    Request,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    add_system,
)
from router.formats.openai_chat.policy import hints_present, untranslatable

FMT = Format.OPENAI_CHAT


def decode_chat_request(body: dict) -> Request:
    if not isinstance(body, dict):
        raise FormatError("request body must be a JSON object")
    system, mid_system, messages = _decode_messages(require(body, "messages", list))
    effort = optional(body, "reasoning_effort", str)
    max_tokens = _decode_max_tokens(body)
    tools = _decode_tools(optional(body, "tools", list) or [])
    tool_choice = _decode_tool_choice(body.get("tool_choice"))
    legacy_tools, legacy_choice = _decode_legacy_functions(body)
    return Request(
        model=require(body, "model", str),
        messages=messages,
        system=system,
        mid_system=mid_system,
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
        untranslatable=untranslatable(body),
        hints=hints_present(body),
    )


def _decode_messages(
    raw_messages: list,
) -> tuple[list[str], list[tuple[int, str]], list[Message]]:
    """System and developer messages: leading ones are the system text, later ones keep
    their place (Request.mid_system); tool results join the user turn that holds the
    results before them."""
    system: list[str] = []
    mid_system: list[tuple[int, str]] = []
    messages: list[Message] = []
    legacy_calls: dict[str, str] = {}
    for i, msg in enumerate(raw_messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise FormatError(f"{where}: expected object")
        match msg.get("role"):
            case "system" | "developer":
                texts = _text_of(msg.get("content"), where + ".content")
                add_system(system, mid_system, texts, messages)
            case "user":
                parts = _decode_user_content(msg.get("content"), where + ".content")
                messages.append(Message("user", parts))
            case "assistant":
                messages.append(decode_assistant_message(msg, where, f"call_{i}"))
                legacy = msg.get("function_call")
                if isinstance(legacy, dict):
                    legacy_calls[str(legacy.get("name"))] = f"call_{i}"
            case "tool" | "function":
                append_tool_result(messages, _decode_tool_message(msg, where, legacy_calls))
            case role:
                raise FormatError(f"{where}.role: unknown role {role!r}")
    return system, mid_system, messages


def _decode_tool_message(msg: dict, where: str, legacy_calls: dict[str, str]) -> ToolResultPart:
    """A `tool` message, or a legacy `function` message answering the latest call of that
    name (legacy calls carry no id: they got call_<message index>)."""
    call_id = msg.get("tool_call_id")
    if msg.get("role") == "function" and call_id is None:
        name = msg.get("name")
        call_id = legacy_calls.pop(name, name) if isinstance(name, str) else None
    if not isinstance(call_id, str):
        raise FormatError(f"{where}.tool_call_id: field is required")
    content = msg.get("content")
    texts = _text_of(content if content is not None else "", where + ".content")
    return ToolResultPart(call_id=call_id, content=[TextPart(t) for t in texts])


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
    return image_at(url, detail)


def _decode_user_content(content: Any, where: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise FormatError(f"{where}: expected string or array of content parts")
    parts: list[Part] = []
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


def decode_assistant_message(msg: dict, where: str, legacy_id: str = "call_0") -> Message:
    """An assistant message (of a request, or the message of an upstream answer)."""
    parts: list[Part] = []
    reasoning = msg.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        parts.append(ReasoningPart(text=reasoning, signature=None, source=FMT))
    content = msg.get("content")
    if isinstance(content, str):
        if content:
            parts.append(TextPart(content))
    elif content is not None:
        parts.extend(_assistant_content_parts(content, where))
    calls = optional(msg, "tool_calls", list, where + ".")
    if calls:
        parts.extend(_tool_calls(calls, where))
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


def _assistant_content_parts(content: Any, where: str) -> list[Part]:
    """Assistant content given as an array of text (or refusal) parts."""
    if not isinstance(content, list):
        raise FormatError(f"{where}.content: expected string, array or null")
    parts: list[Part] = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in ("text", "refusal"):
            raise FormatError(f"{where}.content[{j}]: expected text part")
        key = "text" if part["type"] == "text" else "refusal"
        parts.append(TextPart(require(part, key, str, f"{where}.content[{j}].")))
    return parts


def _tool_calls(calls: list, where: str) -> list[Part]:
    parts: list[Part] = []
    for j, call in enumerate(calls):
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
    return parts


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
        return openai_choice_mode(choice)
    if isinstance(choice, dict):
        fn = choice.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            return ToolChoice("tool", fn["name"])
    raise FormatError("tool_choice: expected 'auto', 'none', 'required' or a function choice")


def _decode_legacy_functions(body: dict) -> tuple[list[Tool], ToolChoice | None]:
    """The deprecated `functions` / `function_call` pair, as tools and a tool choice."""
    if "functions" not in body and "function_call" not in body:
        return [], None
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


def _decode_max_tokens(body: dict) -> int | None:
    max_tokens = optional(body, "max_completion_tokens", int)
    if max_tokens is None:
        max_tokens = optional(body, "max_tokens", int)
    return max_tokens


def _decode_stop(body: dict) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        return stop
    raise FormatError("stop: expected string or array of strings")


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
