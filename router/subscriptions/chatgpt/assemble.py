"""One Responses API event stream -> the single response object a non-streaming call gets.

The envelope (id, model, status, usage, ...) comes from the terminal event. Its
``output`` is used when the backend filled it; otherwise the output is rebuilt from the
stream's items: ``response.output_item.done`` carries each finished item, and items the
stream never finished are pieced together from their deltas. A stream without a terminal
event, or one that failed, has no response: ``result()`` raises.
"""

from __future__ import annotations

import copy
from typing import Any

TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete"})
FAILURE_EVENTS = frozenset({"response.failed", "error"})


class StreamNotCompleted(Exception):
    """The stream ended without a usable response; ``message`` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def failure_message(payload: dict[str, Any]) -> str:
    """The message of a ``response.failed`` or ``error`` event."""
    error = payload.get("error")
    if not isinstance(error, dict):
        response = payload.get("response")
        error = response.get("error") if isinstance(response, dict) else None
    message = error.get("message") if isinstance(error, dict) else payload.get("message")
    if isinstance(message, str) and message:
        return f"upstream response failed: {message}"
    return "upstream response failed"


class ResponseAssembler:
    """Feed every event payload in order, then ask for ``result()``."""

    def __init__(self) -> None:
        self._items: dict[int, dict[str, Any]] = {}
        self._final: dict[str, Any] | None = None
        self._failure: str | None = None

    def feed(self, payload: dict[str, Any]) -> None:
        kind = payload.get("type")
        if not isinstance(kind, str):
            return
        if kind in TERMINAL_EVENTS:
            response = payload.get("response")
            self._final = response if isinstance(response, dict) else {}
            return
        if kind in FAILURE_EVENTS:
            self._failure = self._failure or failure_message(payload)
            return
        index = payload.get("output_index")
        if not isinstance(index, int):
            return
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = payload.get("item")
            if isinstance(item, dict):
                self._items[index] = copy.deepcopy(item)
            return
        item = self._items.get(index)
        if item is not None:
            _apply_delta(item, kind, payload)

    def result(self) -> dict[str, Any]:
        """The whole response; raises StreamNotCompleted for a failed or cut stream."""
        if self._failure is not None:
            raise StreamNotCompleted(self._failure)
        if self._final is None:
            raise StreamNotCompleted("upstream stream ended before response.completed")
        response = dict(self._final)
        if not response.get("output"):
            response["output"] = [self._items[i] for i in sorted(self._items)]
        return response


def _apply_delta(item: dict[str, Any], kind: str, payload: dict[str, Any]) -> None:
    """Grow an unfinished item by one streamed piece."""
    if kind == "response.function_call_arguments.delta":
        item["arguments"] = str(item.get("arguments") or "") + str(payload.get("delta") or "")
    elif kind == "response.function_call_arguments.done":
        item["arguments"] = payload.get("arguments", item.get("arguments", ""))
    elif kind in ("response.content_part.added", "response.content_part.done"):
        _set_slot(item, "content", payload.get("content_index"), payload.get("part"))
    elif kind in ("response.output_text.delta", "response.refusal.delta"):
        field = "text" if kind == "response.output_text.delta" else "refusal"
        part = _slot(item, "content", payload.get("content_index"))
        if part is not None:
            part[field] = str(part.get(field) or "") + str(payload.get("delta") or "")
    elif kind == "response.output_text.done":
        part = _slot(item, "content", payload.get("content_index"))
        if part is not None:
            part["text"] = payload.get("text", part.get("text", ""))
    elif kind in ("response.reasoning_summary_part.added", "response.reasoning_summary_part.done"):
        _set_slot(item, "summary", payload.get("summary_index"), payload.get("part"))
    elif kind == "response.reasoning_summary_text.delta":
        part = _slot(item, "summary", payload.get("summary_index"))
        if part is not None:
            part["text"] = str(part.get("text") or "") + str(payload.get("delta") or "")


def _slot(item: dict[str, Any], key: str, index: Any) -> dict[str, Any] | None:
    parts = item.get(key)
    if not isinstance(parts, list) or not isinstance(index, int) or not 0 <= index < len(parts):
        return None
    part = parts[index]
    return part if isinstance(part, dict) else None


def _set_slot(item: dict[str, Any], key: str, index: Any, part: Any) -> None:
    if not isinstance(index, int) or index < 0 or not isinstance(part, dict):
        return
    parts = item.get(key)
    if not isinstance(parts, list):
        parts = item[key] = []
    while len(parts) <= index:
        parts.append({})
    parts[index] = copy.deepcopy(part)
