"""The scripted tool loop the capture server and the end-to-end tests play with real CLIs.

Turn 1: the client offers its shell tool, the model calls it with ``echo <marker>``.
Turn 2: the client sends the tool's output back, the model ends the turn. These helpers
read both sides in any of the four API formats, using the tool names and argument
schemas the client itself declared (never a guessed shape).
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.behaviours import Reply, ToolCall

MARKER = "CLIPROXY_TOOL_RAN"
REASONING = "The user wants the marker; a shell command prints it."
FINAL_TEXT = "Done: the command printed the marker."
# Shell tools by the names the pinned clients give them, in order of preference.
SHELL_TOOLS = ("Bash", "exec_command", "shell", "shell_command", "run_shell_command", "bash")


def shell_call(
    tools: list[tuple[str, dict[str, Any]]], command: str
) -> tuple[str, dict[str, Any]] | None:
    """(tool name, arguments) running ``command`` with the first shell tool offered."""
    offered = dict(tools)
    name = next((n for n in SHELL_TOOLS if n in offered), None)
    if name is None:
        return None
    properties = offered[name].get("properties") or {}
    arguments: dict[str, Any] = {}
    for key in ("command", "cmd"):
        if key in properties:
            wants_list = str(properties[key].get("type")).lower() == "array"
            arguments[key] = ["bash", "-lc", command] if wants_list else command
            break
    if "description" in properties:
        arguments["description"] = "Print the test marker"
    return name, arguments


def loop_reply(body: Any, marker: str = MARKER) -> Reply:
    """The model's answer in the scripted loop: when the conversation mentions ``marker``,
    call the shell tool until a result is back; otherwise (a one-shot) just answer."""
    call = None
    if marker in json.dumps(body) and not has_tool_result(body):
        call = shell_call(offered_tools(body), f"echo {marker}")
    if call is not None:
        return Reply(text="", reasoning=REASONING, tool_calls=[ToolCall(*call)])
    return Reply(text=FINAL_TEXT, reasoning=REASONING)


def offered_tools(body: Any) -> list[tuple[str, dict[str, Any]]]:
    """(name, parameter schema) of every function tool a request in any format offers;
    Responses namespace groups (as Codex sends them) are opened."""
    if not isinstance(body, dict):
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    for tool in body.get("tools") or []:
        if not isinstance(tool, dict):
            continue
        if isinstance(tool.get("function"), dict):
            found.append((tool["function"].get("name", ""), tool["function"].get("parameters")))
        elif "input_schema" in tool:
            found.append((tool.get("name", ""), tool["input_schema"]))
        elif tool.get("type") == "function":
            found.append((tool.get("name", ""), tool.get("parameters")))
        elif tool.get("type") == "namespace":
            found += offered_tools({"tools": tool.get("tools")})
        for declaration in tool.get("functionDeclarations") or []:
            schema = declaration.get("parametersJsonSchema") or declaration.get("parameters")
            found.append((declaration.get("name", ""), schema))
    return [(name, schema if isinstance(schema, dict) else {}) for name, schema in found]


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
