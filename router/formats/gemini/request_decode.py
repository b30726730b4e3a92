"""Gemini generateContent requests as clients send them -> IR Request.

The model name and the streaming choice live in the URL, not the body: the request
keeps `model` empty (unless the body has one) and `stream` False; the router sets both.
"""

from __future__ import annotations

from typing import Any

from router.formats import web_search
from router.formats.codec import optional, require
from router.formats.errors import FormatError, UnsupportedFeature
from router.formats.features import note_unknown
from router.formats.gemini.parts import PartDecoder, camel_fields
from router.formats.gemini.policy import (
    CALLING_CONFIG_FIELDS,
    DECLARATION_FIELDS,
    JSON_MIME,
    TOOL_CONFIG_FIELDS,
    hints_present,
    untranslatable,
)
from router.formats.ir import (
    Format,
    Message,
    Reasoning,
    Request,
    ResponseFormat,
    Tool,
    ToolChoice,
)
from router.formats.schema_clean import gemini_schema_to_json_schema

FMT = Format.GEMINI
_G = "generationConfig."
_THINKING_LEVEL_EFFORT = {"minimal": "minimal", "low": "low", "medium": "medium", "high": "high"}
_SIMPLE_MODES = {"AUTO": "auto", "NONE": "none"}


def decode_gemini_request(body: dict) -> Request:
    body = camel_fields(body, "request body")
    messages = _decode_contents(require(body, "contents", list))
    system = _decode_system(body.get("systemInstruction"))
    gen = camel_fields(optional(body, "generationConfig", dict) or {}, "generationConfig")
    found = untranslatable(body, gen)
    raw_tools = optional(body, "tools", list) or []
    tools = _decode_tools(raw_tools, found)
    return Request(
        model=optional(body, "model", str) or "",
        messages=messages,
        system=system,
        tools=tools,
        tool_choice=_decode_tool_choice(body, found),
        web_search=web_search.find(raw_tools, web_search.is_gemini_web_search),
        max_tokens=optional(gen, "maxOutputTokens", int, _G),
        temperature=optional(gen, "temperature", (int, float), _G),
        top_p=optional(gen, "topP", (int, float), _G),
        top_k=_integer(gen, "topK", _G),
        stop=optional(gen, "stopSequences", list, _G) or [],
        reasoning=_decode_thinking(gen),
        response_format=_decode_response_format(gen),
        seed=optional(gen, "seed", int, _G),
        presence_penalty=optional(gen, "presencePenalty", (int, float), _G),
        frequency_penalty=optional(gen, "frequencyPenalty", (int, float), _G),
        origin=FMT,
        untranslatable=found,
        hints=hints_present(body, gen),
    )


def _decode_contents(raw_contents: list) -> list[Message]:
    """Clients' calls have no ids: they are numbered call_<n> in order, and each
    functionResponse is matched to its call."""
    counter = iter(range(1 << 30))
    decoder = PartDecoder(FMT, lambda: f"call_{next(counter)}", None)
    messages = []
    for i, raw_content in enumerate(raw_contents):
        where = f"contents[{i}]"
        content = camel_fields(raw_content, where)
        role = content.get("role", "user")
        if role not in ("user", "model", "function"):
            raise FormatError(f"{where}.role: expected 'user' or 'model'")
        parts = decoder.decode(content.get("parts", []), where + ".parts")
        messages.append(Message("assistant" if role == "model" else "user", parts))
    return messages


def _decode_system(instruction: Any) -> list[str]:
    if instruction is None:
        return []
    system: list[str] = []
    for j, part in enumerate(camel_fields(instruction, "systemInstruction").get("parts") or []):
        if not isinstance(part, dict) or not isinstance(part.get("text"), str):
            raise FormatError(f"systemInstruction.parts[{j}]: expected text part")
        system.append(part["text"])
    return system


def _integer(body: dict, key: str, where: str) -> int | None:
    """An optional integer that google-genai may send as a float (topK: 40.0)."""
    value = optional(body, key, (int, float), where)
    if value is None or isinstance(value, int):
        return value
    if not value.is_integer():
        raise FormatError(f"{where}{key}: expected integer")
    return int(value)


def _decode_tools(raw_tools: list, found: dict[str, str]) -> list[Tool]:
    tools: list[Tool] = []
    for i, raw_tool in enumerate(raw_tools):
        if web_search.is_gemini_web_search(raw_tool):
            continue  # Request.web_search
        tool = camel_fields(raw_tool, f"tools[{i}]")
        declarations = tool.get("functionDeclarations")
        if declarations is None or len(tool) > 1:
            raise UnsupportedFeature(f"tools[{i}]: only functionDeclarations tools are supported")
        for j, raw_decl in enumerate(declarations):
            tools.append(
                _decode_declaration(raw_decl, f"tools[{i}].functionDeclarations[{j}].", found)
            )
    return tools


def _decode_declaration(raw_decl: Any, where: str, found: dict[str, str]) -> Tool:
    decl = camel_fields(raw_decl, where[:-1])
    note_unknown(decl, DECLARATION_FIELDS, found, where)
    schema = decl.get("parametersJsonSchema")
    if schema is None:
        schema = gemini_schema_to_json_schema(decl.get("parameters") or {})
    return Tool(
        name=require(decl, "name", str, where),
        description=optional(decl, "description", str, where),
        parameters=schema,
    )


def _decode_tool_choice(body: dict, found: dict[str, str]) -> ToolChoice | None:
    tool_config = camel_fields(optional(body, "toolConfig", dict) or {}, "toolConfig")
    note_unknown(tool_config, TOOL_CONFIG_FIELDS, found, "toolConfig.")
    raw = tool_config.get("functionCallingConfig")
    if raw is None:
        return None
    config = camel_fields(raw, "toolConfig.functionCallingConfig")
    note_unknown(config, CALLING_CONFIG_FIELDS, found, "toolConfig.functionCallingConfig.")
    mode = config.get("mode")
    if not mode or mode == "MODE_UNSPECIFIED":
        return None
    if isinstance(mode, str) and mode in _SIMPLE_MODES:
        return ToolChoice(_SIMPLE_MODES[mode])
    if mode not in ("ANY", "VALIDATED"):
        raise FormatError(f"toolConfig.functionCallingConfig.mode: unknown value {mode!r}")
    allowed = config.get("allowedFunctionNames") or []
    if len(allowed) > 1:
        raise UnsupportedFeature(
            "toolConfig.functionCallingConfig.allowedFunctionNames: a choice among "
            "several functions cannot be translated; name one function or none"
        )
    return ToolChoice("tool", allowed[0]) if allowed else ToolChoice("required")


def _decode_response_format(gen: dict) -> ResponseFormat | None:
    if gen.get("responseMimeType") != JSON_MIME:
        return None
    schema = gen.get("responseJsonSchema")
    if schema is None and gen.get("responseSchema") is not None:
        schema = gemini_schema_to_json_schema(gen["responseSchema"])
    if schema is None:
        return ResponseFormat("json_object")
    return ResponseFormat("json_schema", schema=schema)


def _decode_thinking(gen: dict) -> Reasoning | None:
    where = "generationConfig.thinkingConfig."
    raw = optional(gen, "thinkingConfig", dict, "generationConfig.")
    if not raw:
        return None
    thinking = camel_fields(raw, where[:-1])
    level = thinking.get("thinkingLevel")
    return Reasoning(
        effort=_THINKING_LEVEL_EFFORT.get(str(level).lower()) if level else None,
        budget=optional(thinking, "thinkingBudget", int, where),
        include_thoughts=optional(thinking, "includeThoughts", bool, where),
    )
