"""The scripted tool loop the capture server and the end-to-end tests play with real CLIs.

Turn 1: the client offers its shell tool, the model calls it with ``echo <marker>``
(Codex's Responses-Lite models offer no shell tool but a code-mode tool, ``exec``: the
model sends it a script that runs the command through Codex's own exec_command).
Turn 2: the client sends the tool's output back, the model ends the turn. These helpers
read both sides in any of the four API formats, using the tool names and argument
schemas the client itself declared (never a guessed shape).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.fakes.behaviours import Reply, ToolCall

MARKER = "CLIPROXY_TOOL_RAN"
REASONING = "The user wants the marker; a shell command prints it."
FINAL_TEXT = "Done: the command printed the marker."
# Shell tools by the names the pinned clients give them, in order of preference.
SHELL_TOOLS = ("Bash", "exec_command", "shell", "shell_command", "run_shell_command", "bash")
# Codex's code-mode tool for its Responses-Lite models: a custom (free-form) tool whose
# input is JavaScript run in a V8 isolate, with Codex's own tools on `tools` and `text()`
# appending to the result (tests/clients/corpus/codex-lite).
CODE_TOOL = "exec"
CODE_SCRIPT = 'const run = await tools.exec_command({{cmd: "{command}"}});\ntext(run.output);\n'
# How a custom tool is offered once translated: a function with this one string argument
# (router/formats/openai_responses/request_decode.py, FREEFORM_ARGUMENT).
FREEFORM_ARGUMENT = "input"


@dataclass(frozen=True)
class OfferedTool:
    """A tool a request offers: its name and parameter schema; `freeform` for a Responses
    custom tool (called with raw text), `namespace` for one declared in a namespace group."""

    name: str
    schema: dict[str, Any]
    freeform: bool = False
    namespace: str | None = None


def shell_call(tools: list[OfferedTool], command: str) -> ToolCall | None:
    """A call running ``command`` with the first shell tool offered, else with Codex's
    code-mode tool (a script that runs it through Codex's exec_command)."""
    offered = {tool.name: tool for tool in tools if not tool.freeform}
    name = next((n for n in SHELL_TOOLS if n in offered), None)
    if name is None:
        return code_call(tools, command)
    properties = offered[name].schema.get("properties") or {}
    arguments: dict[str, Any] = {}
    for key in ("command", "cmd"):
        if key in properties:
            wants_list = str(properties[key].get("type")).lower() == "array"
            arguments[key] = ["bash", "-lc", command] if wants_list else command
            break
    if "description" in properties:
        arguments["description"] = "Print the test marker"
    return ToolCall(name, arguments, namespace=offered[name].namespace)


def code_call(tools: list[OfferedTool], command: str) -> ToolCall | None:
    """A call of Codex's code-mode tool: a custom tool call with the script as its input
    (Responses), or, translated, a function call with the script as its one argument."""
    script = CODE_SCRIPT.format(command=command)
    for tool in tools:
        if tool.freeform and tool.name == CODE_TOOL:
            return ToolCall(tool.name, custom_input=script, namespace=tool.namespace)
        translated = tool.name == CODE_TOOL or tool.name.endswith("__" + CODE_TOOL)
        if translated and list(tool.schema.get("properties") or {}) == [FREEFORM_ARGUMENT]:
            return ToolCall(tool.name, {FREEFORM_ARGUMENT: script}, namespace=tool.namespace)
    return None


def loop_reply(body: Any, marker: str = MARKER) -> Reply:
    """The model's answer in the scripted loop: when the conversation mentions ``marker``,
    call the shell tool until a result is back; otherwise (a one-shot) just answer."""
    call = None
    if marker in json.dumps(body) and not has_tool_result(body):
        call = shell_call(offered_tools(body), f"echo {marker}")
    if call is not None:
        return Reply(text="", reasoning=REASONING, tool_calls=[call])
    return Reply(text=FINAL_TEXT, reasoning=REASONING)


def offered_tools(body: Any) -> list[OfferedTool]:
    """Every tool a request in any format offers; Responses namespace groups (as Codex
    sends them) are opened, and Codex's `additional_tools` input items read too."""
    if not isinstance(body, dict):
        return []
    tools = list(body.get("tools") or [])
    items = body.get("input") if isinstance(body.get("input"), list) else []
    for item in items:
        if isinstance(item, dict) and item.get("type") == "additional_tools":
            tools += item.get("tools") or []
    return [t for tool in tools if isinstance(tool, dict) for t in _declared(tool)]


def _declared(tool: dict[str, Any], namespace: str | None = None) -> list[OfferedTool]:
    """The tools one entry of a `tools` list declares, in any of the four formats."""
    found: list[tuple[str, Any]] = []
    if isinstance(tool.get("function"), dict):
        found.append((tool["function"].get("name", ""), tool["function"].get("parameters")))
    elif "input_schema" in tool:
        found.append((tool.get("name", ""), tool["input_schema"]))
    elif tool.get("type") == "function":
        found.append((tool.get("name", ""), tool.get("parameters")))
    elif tool.get("type") == "custom":
        return [OfferedTool(tool.get("name", ""), {}, freeform=True, namespace=namespace)]
    elif tool.get("type") == "namespace":
        inner = [t for t in tool.get("tools") or [] if isinstance(t, dict)]
        return [t for entry in inner for t in _declared(entry, tool.get("name"))]
    for declaration in tool.get("functionDeclarations") or []:
        schema = declaration.get("parametersJsonSchema") or declaration.get("parameters")
        found.append((declaration.get("name", ""), schema))
    return [
        OfferedTool(name, schema if isinstance(schema, dict) else {}, namespace=namespace)
        for name, schema in found
    ]


def has_tool_result(body: Any) -> bool:
    """Whether a request in any of the four formats carries a tool result."""
    if not isinstance(body, dict):
        return False
    for message in body.get("messages") or []:
        if message.get("role") == "tool":
            return True
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        ):
            return True
    for item in body.get("input") or [] if isinstance(body.get("input"), list) else []:
        if str(item.get("type", "")).endswith("_call_output"):
            return True
    return any(
        "functionResponse" in part
        for content in body.get("contents") or []
        for part in content.get("parts") or []
    )


def tool_result_texts(body: Any) -> list[str]:
    """Every tool result in a request, as text (for asserting the CLI ran the tool)."""
    if not isinstance(body, dict):
        return []
    texts: list[str] = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if message.get("role") == "tool":
            texts.append(_text(content))
        elif isinstance(content, list):
            texts += [_text(b.get("content")) for b in content if b.get("type") == "tool_result"]
    if isinstance(body.get("input"), list):
        texts += [
            _text(item.get("output"))
            for item in body["input"]
            if str(item.get("type", "")).endswith("_call_output")
        ]
    for content in body.get("contents") or []:
        for part in content.get("parts") or []:
            if "functionResponse" in part:
                texts.append(str(part["functionResponse"].get("response")))
    return texts


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_text(part.get("text", part)) for part in content if isinstance(part, dict))
    return str(content) if content is not None else ""
