"""Tool names on the Claude OAuth path: prefixed on the way out, restored exactly on the way back.

Public tools rename every client-defined tool on OAuth requests. The map is built per
request from the body itself (``tools``, ``tool_choice`` and the ``tool_use`` blocks of the
history), so a name the client reused across turns always maps to the same upstream name.
Server tools (a ``type`` other than ``custom``, e.g. ``web_search_20250305``) keep their names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from router.formats.toolnames import shorten_tool_name


class ToolNameMap:
    """One request's two-way map between client tool names and upstream tool names."""

    __slots__ = ("_inbound", "_outbound", "_prefix", "_reserved")

    def __init__(self, prefix: str, reserved: frozenset[str] = frozenset()) -> None:
        """``reserved``: names of server tools, never handed out to a client tool."""
        self._prefix = prefix
        self._reserved = reserved
        self._outbound: dict[str, str] = {}
        self._inbound: dict[str, str] = {}

    def outbound(self, name: str) -> str:
        """The upstream name for client tool ``name``; the same name every time it is asked."""
        known = self._outbound.get(name)
        if known is not None:
            return known
        attempt = 0
        candidate = shorten_tool_name(name, self._prefix)
        while candidate in self._inbound or candidate in self._reserved:
            attempt += 1
            candidate = shorten_tool_name(name, self._prefix, attempt)
        self._outbound[name] = candidate
        self._inbound[candidate] = name
        return candidate

    def restore(self, upstream_name: str) -> str:
        """The client's name for ``upstream_name``; names this request never mapped pass as is."""
        return self._inbound.get(upstream_name, upstream_name)

    @property
    def renames(self) -> bool:
        """True when at least one name differs upstream, so responses need restoring."""
        return any(client != upstream for client, upstream in self._outbound.items())


def is_client_tool(tool: Any) -> bool:
    """A tool the client defines and runs (no ``type``, or ``custom``), not a server tool."""
    return isinstance(tool, dict) and tool.get("type") in (None, "custom")


def map_tool_names(body: dict[str, Any], prefix: str) -> ToolNameMap:
    """Rename client tools in ``body`` in place (tools, tool_choice, history tool_use blocks)."""
    listed = body.get("tools")
    tools: list[Any] = listed if isinstance(listed, list) else []
    reserved = frozenset(
        tool["name"]
        for tool in tools
        if not is_client_tool(tool) and isinstance(tool, dict) and isinstance(tool.get("name"), str)
    )
    names = ToolNameMap(prefix, reserved)
    for tool in tools:
        if is_client_tool(tool) and isinstance(tool.get("name"), str):
            tool["name"] = names.outbound(tool["name"])
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool":
        _rename(choice, names, reserved)
    for block in _history_tool_uses(body.get("messages")):
        _rename(block, names, reserved)
    return names


def _rename(holder: dict[str, Any], names: ToolNameMap, reserved: frozenset[str]) -> None:
    name = holder.get("name")
    if isinstance(name, str) and name not in reserved:
        holder["name"] = names.outbound(name)


def _history_tool_uses(messages: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(messages, list):
        return
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                yield block
