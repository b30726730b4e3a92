"""Anthropic Messages requests as clients send them -> IR Request. The content block
decoder also reads upstream answers (response.py)."""

from __future__ import annotations

from typing import Any

from router.formats import web_search
from router.formats.anthropic.policy import hints_present, untranslatable
from router.formats.codec import dumps, optional, require, unwrap_signature
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
)
from router.formats.search_replay import anthropic_block_text, is_anthropic_search_block

FMT = Format.ANTHROPIC
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
_TOOL_CHOICE_MODE = {"auto": "auto", "any": "required", "none": "none"}


def decode_anthropic_request(body: dict) -> Request:
    if not isinstance(body, dict):
        raise FormatError("request body must be a JSON object")
    system = _decode_system(body.get("system"))
    mid_system: list[tuple[int, str]] = []
    replayed: list[str] = []
    messages = _decode_messages(require(body, "messages", list), mid_system, replayed)
    tool_choice, parallel = _decode_tool_choice(body.get("tool_choice"))
    output_config = optional(body, "output_config", dict) or {}
    stop = optional(body, "stop_sequences", list) or []
    raw_tools = optional(body, "tools", list) or []
    if not all(isinstance(s, str) for s in stop):
        raise FormatError("stop_sequences: expected array of strings")
    return Request(
        model=require(body, "model", str),
        messages=messages,
        system=system,
        mid_system=mid_system,
        tools=_decode_tools(raw_tools),
        web_search=web_search.find(raw_tools, web_search.is_anthropic_web_search),
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
        untranslatable=untranslatable(body),
        hints=hints_present(body) + replayed,
    )


def _decode_messages(
    raw_messages: list, mid_system: list[tuple[int, str]], replayed: list[str]
) -> list[Message]:
    """User and assistant turns. A `system` message inside the conversation (Claude Code
    sends them; the Messages API accepts them) keeps its place in `mid_system`; the
    blocks of earlier web searches become text, named in `replayed`."""
    messages: list[Message] = []
    for i, msg in enumerate(raw_messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise FormatError(f"{where}: expected object")
        role = msg.get("role")
        if role == "system":
            texts = _decode_system(msg.get("content"), where + ".content")
            mid_system.extend((len(messages), text) for text in texts)
            continue
        if role not in ("user", "assistant"):
            raise FormatError(f"{where}.role: expected 'user', 'assistant' or 'system'")
        parts = decode_blocks(msg.get("content"), where + ".content", FMT, replayed)
        messages.append(Message(role, parts))
    return messages


def _decode_system(system_raw: Any, where: str = "system") -> list[str]:
    if system_raw is None:
        return []
    if isinstance(system_raw, str):
        return [system_raw] if system_raw else []
    if not isinstance(system_raw, list):
        raise FormatError(f"{where}: expected string or array of text blocks")
    system: list[str] = []
    for j, block in enumerate(system_raw):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise FormatError(f"{where}[{j}]: expected text block")
        system.append(require(block, "text", str, f"{where}[{j}]."))
    return system


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


def decode_blocks(
    content: Any, where: str, client: Format, replayed: list[str] | None = None
) -> list[Part]:
    """Content blocks -> IR parts. `client` is FMT when decoding a client request (foreign
    signatures are unwrapped) and is also FMT for upstream answers (raw signatures). With
    `replayed` (a client request), the blocks of an earlier web search become text and
    their names are added to it (search_replay.py)."""
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise FormatError(f"{where}: expected string or array of content blocks")
    parts: list[Part] = []
    for j, block in enumerate(content):
        bwhere = f"{where}[{j}]"
        if not isinstance(block, dict):
            raise FormatError(f"{bwhere}: expected object")
        match block.get("type"):
            case "text":
                parts.append(TextPart(require(block, "text", str, bwhere + ".")))
            case "image":
                parts.append(_decode_image(block, bwhere))
            case "tool_use":
                parts.append(_decode_tool_use(block, bwhere))
            case "tool_result":
                parts.append(
                    ToolResultPart(
                        call_id=require(block, "tool_use_id", str, bwhere + "."),
                        content=_decode_result_content(block.get("content"), bwhere + ".content"),
                        is_error=bool(block.get("is_error")),
                    )
                )
            case "thinking":
                sig, source = unwrap_signature(block.get("signature"), client)
                text = require(block, "thinking", str, bwhere + ".")
                parts.append(ReasoningPart(text=text, signature=sig, source=source))
            case "redacted_thinking":
                sig, source = unwrap_signature(require(block, "data", str, bwhere + "."), client)
                parts.append(ReasoningPart(text="", signature=sig, source=source, redacted=True))
            case "server_tool_use" | "web_search_tool_result" if (
                replayed is not None and is_anthropic_search_block(block)
            ):
                replayed.append(bwhere)
                parts.append(TextPart(anthropic_block_text(block)))
            case str(btype) if btype in _UNSUPPORTED_BLOCKS:
                raise UnsupportedFeature(f"{bwhere}.type: content block {btype!r} is not supported")
            case btype:
                raise FormatError(f"{bwhere}.type: unknown content block type {btype!r}")
    return parts


def _decode_tool_use(block: dict, where: str) -> ToolCallPart:
    tool_input = block.get("input")
    return ToolCallPart(
        id=require(block, "id", str, where + "."),
        name=require(block, "name", str, where + "."),
        arguments=dumps(tool_input) if tool_input is not None else "{}",
    )


def _decode_tools(tools: list) -> list[Tool]:
    out = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise FormatError(f"{where}: expected object")
        ttype = tool.get("type")
        if web_search.is_anthropic_web_search(tool):
            continue  # Request.web_search
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
    """The tool choice, and parallel_tool_calls (False when parallel use is disabled)."""
    if choice is None:
        return None, None
    if not isinstance(choice, dict):
        raise FormatError("tool_choice: expected object")
    ctype = choice.get("type")
    parallel = False if choice.get("disable_parallel_tool_use") else None
    if ctype == "tool":
        return ToolChoice("tool", require(choice, "name", str, "tool_choice.")), parallel
    mode = _TOOL_CHOICE_MODE.get(ctype) if isinstance(ctype, str) else None
    if mode is None:
        raise FormatError(f"tool_choice.type: unknown value {ctype!r}")
    return ToolChoice(mode), parallel


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
    """`thinking` and output_config.effort together (Anthropic's "max" is the IR's
    "xhigh"). Claude Code sends adaptive thinking with an effort: the effort is what
    other targets need, so it is kept unless thinking is disabled."""
    reasoning = _decode_thinking(body.get("thinking"))
    effort = optional(output_config, "effort", str, "output_config.")
    if effort == "max":
        effort = "xhigh"
    if reasoning is None:
        return Reasoning(effort=effort) if effort else None
    if effort and reasoning.budget != 0:
        reasoning.effort = effort
    return reasoning
