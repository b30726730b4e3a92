"""Field policy of OpenAI Responses requests: what translation does with each top-level
field (see router/formats/features.py)."""

from __future__ import annotations

from typing import Any

from router.formats.codec import optional
from router.formats.features import HOSTED_TOOL, note_unknown
from router.formats.web_search import is_responses_web_search

TRANSLATED = frozenset(
    {
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls",
        "max_output_tokens", "temperature", "top_p", "stream", "reasoning", "text", "user",
        "safety_identifier", "previous_response_id", "include",
    }
)  # fmt: skip
DROPPED_HINTS = {
    "store": "whether OpenAI keeps the response; a translated upstream stores nothing",
    "metadata": "tags for OpenAI's stored responses",
    "service_tier": "the OpenAI account's processing tier",
    "prompt_cache_key": "a prompt-cache routing hint",
    "prompt_cache_retention": "a prompt-cache retention hint",
    "prompt_cache_options": "prompt-cache breakpoints",
    "stream_options": "stream obfuscation padding",
    "max_tool_calls": "a cap on built-in tool calls, which translation never sends",
    "background_options": "options of background mode, which translation rejects",
    "context_management": "server-side compaction; the target receives the whole "
    "conversation instead",
}
# Accepted at their default value only; anything else no other format can express.
DEFAULT_ONLY = frozenset(
    {
        "top_logprobs", "truncation", "background", "conversation", "prompt", "moderation",
        "access_programs", "image",
    }
)  # fmt: skip
_SET_ONLY_HERE = {
    "conversation": "a conversation stored upstream",
    "prompt": "a prompt template stored upstream",
    "moderation": "OpenAI's moderation of input and output",
    "access_programs": "OpenAI access programs",
    "image": "OpenAI image options",
}
KNOWN = TRANSLATED | frozenset(DROPPED_HINTS) | DEFAULT_ONLY
# Tool types that become IR tools; any other is a hosted tool (Codex sends web_search on
# every request), dropped with a note unless the request is strict.
FUNCTION_TOOL_TYPES = ("function", "custom", "namespace")
# The input item Codex offers its tools in for the models it marks use_responses_lite.
ADDITIONAL_TOOLS = "additional_tools"
# `include` asks for extra output; only log probabilities would be lost in translation.
_INCLUDE_LOGPROBS = "message.output_text.logprobs"


def untranslatable(body: dict) -> dict[str, str]:
    """Client fields no other format can express, with what each asks for."""
    found: dict[str, str] = {}
    if optional(body, "top_logprobs", int):
        found["top_logprobs"] = "log probabilities"
    if _INCLUDE_LOGPROBS in (optional(body, "include", list) or ()):
        found["include"] = f"{_INCLUDE_LOGPROBS!r} (log probabilities)"
    truncation = optional(body, "truncation", str)
    if truncation not in (None, "disabled"):
        found["truncation"] = "automatic truncation of the conversation by the upstream"
    if optional(body, "background", bool):
        found["background"] = "a background (stored, polled) response"
    for name, what in _SET_ONLY_HERE.items():
        if body.get(name) is not None:
            found[name] = what
    text = optional(body, "text", dict)
    if text:
        note_unknown(text, frozenset({"format", "verbosity"}), found, "text.")
    for where, tool in tool_entries(body):
        if (
            isinstance(tool, dict)
            and tool.get("type") not in FUNCTION_TOOL_TYPES
            and not is_responses_web_search(tool)
        ):
            found[where] = HOSTED_TOOL
    note_unknown(body, KNOWN, found)
    return found


def tool_entries(body: dict) -> list[tuple[str, Any]]:
    """(where, tool) for every tool a request offers: `tools`, then those of its
    `additional_tools` input items, where Codex puts them for the models it marks
    `use_responses_lite` (recorded: tests/clients/corpus/codex-lite)."""
    entries: list[tuple[str, Any]] = [
        (f"tools[{i}]", tool) for i, tool in enumerate(optional(body, "tools", list) or ())
    ]
    items = body.get("input")
    for i, item in enumerate(items if isinstance(items, list) else ()):
        if isinstance(item, dict) and item.get("type") == ADDITIONAL_TOOLS:
            where = f"input[{i}]."
            tools = optional(item, "tools", list, where) or ()
            entries += [(f"{where}tools[{j}]", tool) for j, tool in enumerate(tools)]
    return entries


def hints_present(body: dict) -> list[str]:
    """The DROPPED_HINTS fields this request has (reported as dropped, never sent)."""
    return [name for name in DROPPED_HINTS if name in body]
