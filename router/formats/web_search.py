"""Hosted web search: each format's own tool, carried between the formats that have one.

OpenAI Responses `{"type": "web_search"}` (and its preview and dated variants),
Anthropic's web search server tool (`web_search_20250305`, ...) and Gemini's Google
Search grounding (`{"googleSearch": {}}`) mean the same thing: let the upstream search
the web. `Request.web_search` names the client's tool; a target without one (OpenAI
Chat) drops it and names it (a 400 when strict, see features.check_target).
"""

from __future__ import annotations

from typing import Any

from router.formats.ir import Format

TARGETS = frozenset({Format.OPENAI_RESPONSES, Format.ANTHROPIC, Format.GEMINI})
RESPONSES_TOOL = {"type": "web_search"}
ANTHROPIC_TOOL = {"type": "web_search_20250305", "name": "web_search"}
_GEMINI_KEYS = frozenset({"googleSearch", "google_search"})


def is_responses_web_search(tool: Any) -> bool:
    kind = tool.get("type") if isinstance(tool, dict) else None
    return isinstance(kind, str) and kind.startswith("web_search")


def is_anthropic_web_search(tool: Any) -> bool:
    kind = tool.get("type") if isinstance(tool, dict) else None
    return isinstance(kind, str) and kind.startswith("web_search_")


def is_gemini_web_search(tool: Any) -> bool:
    return isinstance(tool, dict) and len(tool) == 1 and next(iter(tool)) in _GEMINI_KEYS


def find(tools: list, is_web_search: Any) -> str | None:
    """The client's name (`tools[i]`) of its first web search tool, or None."""
    return next((f"tools[{i}]" for i, tool in enumerate(tools) if is_web_search(tool)), None)


def target_tool(target: Format) -> dict:
    """The target's own web search tool (a fresh dict: encoders may add to it)."""
    if target is Format.ANTHROPIC:
        return dict(ANTHROPIC_TOOL)
    if target is Format.GEMINI:
        return {"googleSearch": {}}
    return dict(RESPONSES_TOOL)
