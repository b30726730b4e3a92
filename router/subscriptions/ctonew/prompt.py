"""An OpenAI Chat conversation as the one prompt cto.new takes.

Each message becomes a ``role:\\ncontent`` block (``developer`` counts as ``system``),
blocks separated by a blank line. cto.new has no tool API: an assistant's tool calls are
written as ``[tool call name(arguments)]`` lines and tool results as ``tool`` blocks, so a
conversation that used tools still reads whole; tool definitions are not sent. Only text
goes: an image or other non-text part is refused. The request body is limited to about
32 KB, so the prompt's size in the body (JSON-escaped UTF-8) is bounded.
"""

from __future__ import annotations

import json
from typing import Any


class PromptError(Exception):
    """The conversation cannot be sent to cto.new; ``message`` says why (a client error)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def flatten(messages: Any) -> str:
    if not isinstance(messages, list) or not messages:
        raise PromptError("messages: expected a non-empty list", "messages")
    blocks: list[str] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise PromptError(f"{where}: expected an object", where)
        role = message.get("role")
        if not isinstance(role, str) or not role:
            raise PromptError(f"{where}.role: expected a string", f"{where}.role")
        lines = [_text(message.get("content"), f"{where}.content")]
        lines += _tool_calls(message.get("tool_calls"), f"{where}.tool_calls")
        text = "\n".join(line for line in lines if line)
        if text.strip():
            blocks.append(f"{'system' if role == 'developer' else role}:\n{text}")
    if not blocks:
        raise PromptError("messages: every message is empty", "messages")
    return "\n\n".join(blocks)


def body_size(prompt: str) -> int:
    """Bytes the prompt occupies in the JSON request body (without its quotes)."""
    return len(json.dumps(prompt, ensure_ascii=False).encode()) - 2


def check_size(prompt: str, limit: int) -> None:
    size = body_size(prompt)
    if size > limit:
        raise PromptError(
            f"the conversation is {size} bytes once flattened into one prompt and cto.new "
            f"accepts at most {limit} (subscriptions.ctonew.max-prompt-bytes); "
            "shorten the conversation or start a new one",
            "messages",
        )


def _text(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise PromptError(f"{where}: expected a string or a list of parts", where)
    texts: list[str] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("text", "input_text", "output_text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        else:
            raise PromptError(
                f"{where}[{index}]: cto.new takes text only, not {kind or 'this part'}",
                f"{where}[{index}]",
            )
    return "\n".join(texts)


def _tool_calls(calls: Any, where: str) -> list[str]:
    if not calls:
        return []
    if not isinstance(calls, list):
        raise PromptError(f"{where}: expected a list", where)
    lines = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise PromptError(f"{where}: expected function calls", where)
        lines.append(f"[tool call {function.get('name')}({function.get('arguments') or ''})]")
    return lines
