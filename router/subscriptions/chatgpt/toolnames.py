"""Tool names the Codex backend accepts, and the client's own names on the way back.

The backend refuses function names longer than 64 characters. Names are shortened with
the formats layer's deterministic shortener (so a name the client reuses in a later turn
gets the same short form) and restored in the backend's answer. Short names contain only
``[a-zA-Z0-9_-]``, so in JSON text they appear as exactly ``"<short>"`` wherever they are
a whole string value, and never so inside another string (whose quotes are escaped):
restoring is a plain text replacement of that quoted form, exact and cheap.
"""

from __future__ import annotations

import json
from typing import Any

from router.formats.toolnames import shorten_tool_name


class ToolNames:
    """The names shortened for one request: short name -> the client's name."""

    __slots__ = ("_originals", "_replacements")

    def __init__(self) -> None:
        self._originals: dict[str, str] = {}
        self._replacements: list[tuple[str, str]] = []

    def __bool__(self) -> bool:
        return bool(self._originals)

    def shorten(self, name: str) -> str:
        """The name to send; remembers it when it differs from the client's."""
        short = shorten_tool_name(name)
        if short != name and short not in self._originals:
            self._originals[short] = name
            self._replacements.append((json.dumps(short), json.dumps(name)))
        return short

    def restore_text(self, text: str) -> str:
        """JSON text with every shortened name (as a whole string value) restored."""
        for quoted_short, quoted_original in self._replacements:
            if quoted_short in text:
                text = text.replace(quoted_short, quoted_original)
        return text


def shorten_request_names(body: dict[str, Any]) -> ToolNames:
    """Shorten, in place, every function name of a Responses request body: tool
    definitions, a forced ``tool_choice`` (also inside ``allowed_tools``) and the function
    calls of earlier turns in ``input``."""
    names = ToolNames()
    for tool in _dicts(body.get("tools")):
        _shorten_field(tool, names)
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        _shorten_field(choice, names)
        for tool in _dicts(choice.get("tools")):
            _shorten_field(tool, names)
    for item in _dicts(body.get("input")):
        if item.get("type") == "function_call":
            _shorten_field(item, names)
    return names


def _dicts(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]


def _shorten_field(entry: dict[str, Any], names: ToolNames) -> None:
    if entry.get("type") != "function_call" and entry.get("type") != "function":
        return
    name = entry.get("name")
    if isinstance(name, str):
        entry["name"] = names.shorten(name)
