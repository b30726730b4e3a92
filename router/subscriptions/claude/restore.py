"""Restores client tool names in Anthropic answers: whole messages and SSE streams.

The wire facts of the Claude subscription's answer transform; the replies that apply it
are the shared ones in router/upstreams/transforms.py.

In a stream only ``content_block_start`` events that open a ``tool_use`` block carry a
tool name; those events are rewritten and every other byte passes through untouched.
Events may arrive split across chunks anywhere, so bytes after the last complete event
are held until the rest of that event arrives.
"""

from __future__ import annotations

import json
import re

from router.formats.codec import dumps
from router.subscriptions.claude.toolnames import ToolNameMap
from router.upstreams.base import UpstreamReply
from router.upstreams.transforms import RewrittenWhole, TransformedStream

# A blank line (two line ends in a row) ends an SSE event; a lone CR is a line end too.
_EVENT_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
_LINE_END = b"\r\n"


def restore_message(body: bytes, names: ToolNameMap) -> bytes:
    """A Messages JSON body with every ``tool_use`` name restored; other bodies as they are."""
    try:
        message = json.loads(body)
    except ValueError:
        return body
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return body
    changed = False
    for block in content:
        if isinstance(block, dict) and block.get("type") == "tool_use":
            changed |= _restore_block(block, names)
    return dumps(message).encode() if changed else body


def _restore_block(block: dict, names: ToolNameMap) -> bool:
    name = block.get("name")
    if not isinstance(name, str):
        return False
    restored = names.restore(name)
    block["name"] = restored
    return restored != name


class StreamRestorer:
    """Feed Anthropic SSE bytes as they arrive; get back the same bytes with names restored.

    An AnswerTransform (router/upstreams/transforms.py) that never sees a failure."""

    __slots__ = ("_held", "_names")

    failure = None

    def __init__(self, names: ToolNameMap) -> None:
        self._names = names
        self._held = b""

    def feed(self, chunk: bytes) -> bytes:
        """Every complete event received so far (possibly ``b""`` while one is incomplete)."""
        data = self._held + chunk if self._held else chunk
        end = 0
        for match in _EVENT_END.finditer(data):
            end = match.end()
        self._held = data[end:]
        return self._restore_events(data[:end])

    def flush(self) -> bytes:
        """What is left when the stream ends (an unterminated last event, if any)."""
        rest, self._held = self._held, b""
        return self._restore_event(rest) if rest else b""

    def _restore_events(self, events: bytes) -> bytes:
        if b"content_block_start" not in events or b"tool_use" not in events:
            return events
        parts: list[bytes] = []
        start = 0
        for match in _EVENT_END.finditer(events):
            parts.append(self._restore_event(events[start : match.end()]))
            start = match.end()
        parts.append(events[start:])
        return b"".join(parts)

    def _restore_event(self, event: bytes) -> bytes:
        if b"content_block_start" not in event or b"tool_use" not in event:
            return event
        lines = event.splitlines(keepends=True)
        data = [_field_value(line) for line in lines if line.startswith(b"data")]
        try:
            payload = json.loads(b"\n".join(v for v in data if v is not None))
        except ValueError:
            return event
        block = payload.get("content_block") if isinstance(payload, dict) else None
        if (
            payload.get("type") != "content_block_start"
            or not isinstance(block, dict)
            or block.get("type") != "tool_use"
            or not _restore_block(block, self._names)
        ):
            return event
        rewritten = b"data: " + dumps(payload).encode()
        out: list[bytes] = []
        for line in lines:
            if _field_value(line) is None:
                out.append(line)
            elif rewritten:
                out.append(rewritten + line[len(line.rstrip(_LINE_END)) :])
                rewritten = b""
        return b"".join(out)


def _field_value(line: bytes) -> bytes | None:
    """The value of a ``data`` field line, else None."""
    content = line.rstrip(_LINE_END)
    name, colon, value = content.partition(b":")
    if name != b"data":
        return None
    if not colon:
        return b""
    return value[1:] if value.startswith(b" ") else value


class RestoredStreamReply(TransformedStream):
    """An SSE reply whose chunks come out with tool names restored."""

    __slots__ = ()

    def __init__(self, inner: UpstreamReply, names: ToolNameMap) -> None:
        super().__init__(inner, StreamRestorer(names))


class RestoredMessageReply(RewrittenWhole):
    """A JSON reply read whole, then handed out as one chunk with tool names restored."""

    __slots__ = ()

    def __init__(self, inner: UpstreamReply, names: ToolNameMap) -> None:
        super().__init__(inner, lambda body: restore_message(body, names))
