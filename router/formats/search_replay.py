"""A client's earlier hosted web searches, replayed in its history, as visible text.

An Anthropic client sends back the `server_tool_use` call of its web search and the
`web_search_tool_result` that answered it; a Responses client sends back `web_search_call`
items. No other format can hold them (their encrypted page contents only mean something
to the upstream that issued them), so for a translated request they become text in the
assistant turn where they were, naming the query and what was found, and the client's
field is named in `dropped` (the decoders add it to `Request.hints`).
"""

from __future__ import annotations

from typing import Any

ANTHROPIC_BLOCKS = frozenset({"server_tool_use", "web_search_tool_result"})
RESPONSES_ITEM = "web_search_call"


def is_anthropic_search_block(block: dict) -> bool:
    """A block of an earlier web search: its call (server tool `web_search`) or result."""
    kind = block.get("type")
    if kind == "server_tool_use":
        return block.get("name") == "web_search"
    return kind == "web_search_tool_result"


def anthropic_block_text(block: dict) -> str:
    if block.get("type") == "server_tool_use":
        return f"[web search: {_query(block.get('input'))}]"
    content = block.get("content")
    if isinstance(content, dict):  # web_search_tool_result_error
        return f"[web search failed: {content.get('error_code') or 'unknown error'}]"
    lines = ["[web search results]"]
    for result in content if isinstance(content, list) else ():
        if isinstance(result, dict):
            lines.append(_result_line(result))
    return "\n".join(lines)


def responses_item_text(item: dict) -> str:
    action = item.get("action")
    action = action if isinstance(action, dict) else {}
    kind = action.get("type")
    if kind == "open_page":
        return f"[web search: opened {action.get('url') or 'a page'}]"
    if kind == "find":
        return f"[web search: looked for {action.get('pattern')!r} in {action.get('url')}]"
    lines = [f"[web search: {_query(action)}]"]
    for source in action.get("sources") or ():
        if isinstance(source, dict) and source.get("url"):
            lines.append(f"- {source['url']}")
    return "\n".join(lines)


def _query(holder: Any) -> str:
    query = holder.get("query") if isinstance(holder, dict) else None
    return str(query) if query else "(no query)"


def _result_line(result: dict) -> str:
    line = f"- {result.get('title') or result.get('url') or 'result'}"
    if result.get("url"):
        line += f" <{result['url']}>"
    if result.get("page_age"):
        line += f" ({result['page_age']})"
    return line
