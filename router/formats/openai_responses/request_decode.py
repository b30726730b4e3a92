"""OpenAI Responses requests as clients send them -> IR Request."""

from __future__ import annotations

from typing import Any

from router.formats import web_search
from router.formats.codec import (
    append_tool_result,
    dumps,
    image_at,
    openai_choice_mode,
    optional,
    require,
    unwrap_signature,
)
from router.formats.errors import FormatError, UnsupportedFeature
from router.formats.ir import (
    Format,
    ImagePart,
    Message,
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
from router.formats.openai_responses.policy import (
    FUNCTION_TOOL_TYPES,
    hints_present,
    tool_entries,
    untranslatable,
)
from router.formats.search_replay import RESPONSES_ITEM, responses_item_text

FMT = Format.OPENAI_RESPONSES
_SUMMARY_MODES = ("auto", "concise", "detailed")
# A `custom` (free-form) tool as a function: one string argument carrying the raw input.
FREEFORM_ARGUMENT = "input"
_FREEFORM_HELP = "The raw input for this tool, as free-form text (not JSON)."


# the request's system text and the system messages inside its conversation
SystemTexts = tuple[list[str], list[tuple[int, str]]]


def decode_responses_request(body: dict) -> Request:
    if not isinstance(body, dict):
        raise FormatError("request body must be a JSON object")
    system: list[str] = []
    instructions = optional(body, "instructions", str)
    if instructions:
        system.append(instructions)
    mid_system: list[tuple[int, str]] = []
    messages = _decode_input(body.get("input"), system, mid_system)
    raw_tools = tool_entries(body)
    tools = _decode_tools(raw_tools)
    tool_choice = _decode_tool_choice(body.get("tool_choice"))
    reasoning = _decode_reasoning(optional(body, "reasoning", dict))
    text = optional(body, "text", dict)
    response_format = _decode_text_format(text)
    return Request(
        model=require(body, "model", str),
        messages=messages,
        system=system,
        mid_system=mid_system,
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
        web_search=next(
            (where for where, tool in raw_tools if web_search.is_responses_web_search(tool)), None
        ),
        origin=FMT,
        untranslatable=untranslatable(body),
        hints=hints_present(body) + _replayed_searches(body.get("input")),
    )


def _replayed_searches(raw_input: Any) -> list[str]:
    """The client's names of the earlier web searches it sent back (as text upstream)."""
    items = raw_input if isinstance(raw_input, list) else []
    return [
        f"input[{i}]"
        for i, item in enumerate(items)
        if isinstance(item, dict) and item.get("type") == RESPONSES_ITEM
    ]


def _decode_input(
    raw_input: Any, system: list[str], mid_system: list[tuple[int, str]]
) -> list[Message]:
    """`input` (a string or a list of items) as IR messages; system and developer
    messages before any other are added to `system`, later ones to `mid_system`."""
    if raw_input is None:
        return []
    if isinstance(raw_input, str):
        return [Message("user", [TextPart(raw_input)])]
    if not isinstance(raw_input, list):
        raise FormatError("input: expected string or array of items")
    messages: list[Message] = []
    for i, item in enumerate(raw_input):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise FormatError(f"{where}: expected object")
        _decode_item(item, where, messages, (system, mid_system))
    return messages


def _decode_item(item: dict, where: str, messages: list[Message], system: SystemTexts) -> None:
    match item.get("type", "message"):
        case "message":
            _decode_message_item(item, where, messages, system)
        case "function_call":
            namespace = optional(item, "namespace", str, where + ".")
            _assistant(messages).parts.append(
                ToolCallPart(
                    id=require(item, "call_id", str, where + "."),
                    name=flat_tool_name(namespace, require(item, "name", str, where + ".")),
                    arguments=optional(item, "arguments", str, where + ".") or "",
                )
            )
        case "custom_tool_call":
            raw_input = optional(item, "input", str, where + ".") or ""
            namespace = optional(item, "namespace", str, where + ".")
            _assistant(messages).parts.append(
                ToolCallPart(
                    id=require(item, "call_id", str, where + "."),
                    name=flat_tool_name(namespace, require(item, "name", str, where + ".")),
                    arguments=dumps({FREEFORM_ARGUMENT: raw_input}),
                )
            )
        case "function_call_output" | "custom_tool_call_output":
            output = item.get("output")
            content = decode_content(output if output is not None else "", where + ".output")
            call_id = require(item, "call_id", str, where + ".")
            append_tool_result(messages, ToolResultPart(call_id=call_id, content=content))
        case "reasoning":
            _assistant(messages).parts.append(decode_reasoning_item(item, FMT))
        case "additional_tools":
            pass  # offered tools, lifted into the tool list (tool_entries)
        case "web_search_call":
            _assistant(messages).parts.append(TextPart(responses_item_text(item)))
        case itype:
            raise UnsupportedFeature(f"{where}.type: input item type {itype!r} is not supported")


def _decode_message_item(
    item: dict, where: str, messages: list[Message], system: SystemTexts
) -> None:
    role = item.get("role")
    parts = decode_content(item.get("content"), where + ".content")
    if role in ("system", "developer"):
        texts = []
        for p in parts:
            if not isinstance(p, TextPart):
                raise FormatError(f"{where}.content: system content must be text")
            texts.append(p.text)
        add_system(*system, texts, messages)
    elif role == "user":
        messages.append(Message("user", list(parts)))
    elif role == "assistant":
        _assistant(messages).parts.extend(parts)
    else:
        raise FormatError(f"{where}.role: unknown role {role!r}")


def _assistant(messages: list[Message]) -> Message:
    """The assistant turn being built: items of one turn arrive one by one."""
    if messages and messages[-1].role == "assistant":
        return messages[-1]
    messages.append(Message("assistant", []))
    return messages[-1]


def _decode_image(part: dict, where: str) -> ImagePart:
    if part.get("file_id"):
        raise UnsupportedFeature(f"{where}.file_id: uploaded file references are not supported")
    url = require(part, "image_url", str, where + ".")
    detail = optional(part, "detail", str, where + ".")
    return image_at(url, detail)


def decode_content(content: Any, where: str) -> list[TextPart | ImagePart]:
    """Message content (of a request item or of an upstream's output message)."""
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise FormatError(f"{where}: expected string or array of content parts")
    parts: list[TextPart | ImagePart] = []
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


def decode_reasoning_item(item: dict, client: Format) -> ReasoningPart:
    """A reasoning item: summary (else content) text and its encrypted content."""
    summary = item.get("summary") or []
    texts = [s.get("text", "") for s in summary if isinstance(s, dict)]
    if not texts:
        texts = [c.get("text", "") for c in item.get("content") or () if isinstance(c, dict)]
    signature, source = unwrap_signature(item.get("encrypted_content"), client)
    return ReasoningPart(
        text="\n\n".join(texts), signature=signature, source=source, item_id=item.get("id")
    )


def flat_tool_name(namespace: str | None, name: str) -> str:
    """A namespaced tool's name for targets without namespaces: the two joined (Codex's
    MCP namespaces already end in "__": mcp__server__ + tool)."""
    if not namespace:
        return name
    return f"{namespace}{'' if namespace.endswith('_') else '__'}{name}"


def _decode_tools(raw_tools: list[tuple[str, Any]]) -> list[Tool]:
    tools: list[Tool] = []
    for where, tool in raw_tools:
        tools.extend(_decode_tool(tool, where))
    return tools


def _decode_tool(tool: Any, where: str, namespace: str | None = None) -> list[Tool]:
    if not isinstance(tool, dict):
        raise FormatError(f"{where}: expected object")
    match tool.get("type"):
        case "function":
            return [_decode_function_tool(tool, where, namespace)]
        case "custom":
            return [_decode_custom_tool(tool, where, namespace)]
        case "namespace" if namespace is None:
            return _decode_namespace(tool, where)
        case ttype if namespace is None and ttype not in FUNCTION_TOOL_TYPES:
            return []  # a hosted tool: policy.untranslatable notes it
        case ttype:
            raise UnsupportedFeature(f"{where}.type: tool type {ttype!r} is not supported")


def _decode_function_tool(tool: dict, where: str, namespace: str | None) -> Tool:
    name = require(tool, "name", str, where + ".")
    return Tool(
        name=flat_tool_name(namespace, name),
        description=optional(tool, "description", str, where + "."),
        parameters=optional(tool, "parameters", dict, where + ".") or {},
        namespaced=(namespace, name) if namespace else None,
    )


def _decode_namespace(tool: dict, where: str) -> list[Tool]:
    """A Codex namespace group ({type: namespace, name, tools: [functions]}): its tools,
    flattened to functions named namespace + name."""
    namespace = require(tool, "name", str, where + ".")
    tools: list[Tool] = []
    for j, inner in enumerate(require(tool, "tools", list, where + ".")):
        tools.extend(_decode_tool(inner, f"{where}.tools[{j}]", namespace))
    return tools


def _decode_custom_tool(tool: dict, where: str, namespace: str | None) -> Tool:
    """A free-form tool; a grammar its input must follow is added to the description.
    In a namespace group (Codex's Lite `exec`) it is flattened like a function."""
    description = optional(tool, "description", str, where + ".")
    grammar = tool.get("format")
    if not isinstance(grammar, dict):
        grammar = {}
    definition = grammar.get("definition")
    if grammar.get("type") == "grammar" and isinstance(definition, str):
        syntax = grammar.get("syntax") or "grammar"
        note = f"The input must follow this {syntax} grammar:\n{definition}"
        description = f"{description}\n\n{note}" if description else note
    name = require(tool, "name", str, where + ".")
    return Tool(
        name=flat_tool_name(namespace, name),
        description=description,
        parameters={
            "type": "object",
            "properties": {FREEFORM_ARGUMENT: {"type": "string", "description": _FREEFORM_HELP}},
            "required": [FREEFORM_ARGUMENT],
        },
        freeform=True,
        namespaced=(namespace, name) if namespace else None,
    )


def _decode_tool_choice(choice: Any) -> ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        return openai_choice_mode(choice)
    if isinstance(choice, dict):
        if choice.get("type") != "function":
            raise UnsupportedFeature("tool_choice.type: only function tool choices are supported")
        name = require(choice, "name", str, "tool_choice.")
        namespace = optional(choice, "namespace", str, "tool_choice.")
        return ToolChoice("tool", flat_tool_name(namespace, name))
    raise FormatError("tool_choice: expected string or object")


def _decode_reasoning(raw: dict | None) -> Reasoning | None:
    if not raw:
        return None
    return Reasoning(
        effort=optional(raw, "effort", str, "reasoning."),
        include_thoughts=True if raw.get("summary") in _SUMMARY_MODES else None,
    )


def _decode_text_format(text: dict | None) -> ResponseFormat | None:
    fmt = optional(text, "format", dict, "text.") if text else None
    if not fmt:
        return None
    ftype = fmt.get("type")
    if ftype == "json_object":
        return ResponseFormat("json_object")
    if ftype == "json_schema":
        return ResponseFormat(
            "json_schema",
            schema=optional(fmt, "schema", dict, "text.format.") or {},
            name=optional(fmt, "name", str, "text.format."),
            strict=optional(fmt, "strict", bool, "text.format."),
        )
    if ftype != "text":
        raise FormatError(f"text.format.type: unknown value {ftype!r}")
    return None
