"""Same format in and out: forward the upstream's bytes, changing only the model name.

Streams are relayed chunk by chunk without decoding them. The only look inside a chunk
is a substring test for the format's usage marker; matching lines are kept as bytes and
parsed once, when the stream ends, so the log line can carry token counts.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from router.api.errors import stream_error_bytes
from router.api.stream_end import END_DESCRIPTIONS, EndWatch
from router.errors import ErrorKind, ProxyError
from router.formats import Format

_USAGE_MARKER = {
    Format.OPENAI_CHAT: b'"usage"',
    Format.OPENAI_RESPONSES: b'"usage"',
    Format.ANTHROPIC: b'"usage"',
    Format.GEMINI: b'"usageMetadata"',
}

# Where each format keeps its token counts: (container keys to descend, input key, output key).
_USAGE_PATHS: dict[Format, list[tuple[tuple[str, ...], str, str]]] = {
    Format.OPENAI_CHAT: [(("usage",), "prompt_tokens", "completion_tokens")],
    Format.OPENAI_RESPONSES: [
        (("usage",), "input_tokens", "output_tokens"),
        (("response", "usage"), "input_tokens", "output_tokens"),
    ],
    Format.ANTHROPIC: [
        (("usage",), "input_tokens", "output_tokens"),
        (("message", "usage"), "input_tokens", "output_tokens"),
    ],
    Format.GEMINI: [(("usageMetadata",), "promptTokenCount", "candidatesTokenCount")],
}


def usage_fields(fmt: Format, payload: Any) -> dict[str, int]:
    """Token counts for the log line from a response body or one stream event."""
    fields: dict[str, int] = {}
    for path, input_key, output_key in _USAGE_PATHS[fmt]:
        node = payload
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        for source, target in ((input_key, "tokens_in"), (output_key, "tokens_out")):
            if isinstance(node.get(source), int):
                fields[target] = node[source]
    return fields


class Passthrough:
    """Relays an upstream stream in the client's own format, untouched."""

    def __init__(self, fmt: Format, upstream_name: str = "upstream") -> None:
        self.format = fmt
        self.usage: dict[str, int] = {}
        self.truncated = False
        self._upstream_name = upstream_name
        self._marker = _USAGE_MARKER[fmt]
        self._usage_lines: deque[bytes] = deque(maxlen=2)
        self._end = EndWatch(fmt)

    def feed(self, chunk: bytes) -> bytes:
        if self._marker in chunk:
            for line in chunk.split(b"\n"):
                if line.startswith(b"data:") and self._marker in line:
                    self._usage_lines.append(line[5:])
        self._end.feed(chunk)
        return chunk

    def finish(self) -> bytes:
        self._note_usage()
        if self._end.seen:
            return b""
        self.truncated = True
        message = (
            f"upstream {self._upstream_name} ended the stream without "
            f"{END_DESCRIPTIONS[self.format]}; the answer may be incomplete"
        )
        return stream_error_bytes(self.format, ProxyError(502, message, ErrorKind.API_ERROR))

    def fail(self, error: ProxyError) -> bytes:
        self._note_usage()
        return stream_error_bytes(self.format, error)

    def _note_usage(self) -> None:
        for line in self._usage_lines:
            try:
                self.usage.update(usage_fields(self.format, json.loads(line)))
            except ValueError:
                continue
        self._usage_lines.clear()
