"""Same format in and out: forward the upstream's bytes, changing only the model name.

Streams are relayed chunk by chunk without decoding them. The only look inside a chunk
is a substring test for the format's usage marker; matching lines are kept as bytes and
parsed once, when the stream ends, so the log line can carry token counts.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from router.error_replies import stream_error_bytes
from router.errors import ErrorKind, ProxyError
from router.formats import Format
from router.generation.stream_end import END_DESCRIPTIONS, EndWatch
from router.jsonio import loads

_USAGE_MARKER = {
    Format.OPENAI_CHAT: b'"usage"',
    Format.OPENAI_RESPONSES: b'"usage"',
    Format.ANTHROPIC: b'"usage"',
    Format.GEMINI: b'"usageMetadata"',
}

# Where each format keeps its token counts: container keys to descend, then each log field
# and the key path (inside the container) that holds it. tokens_in counts the whole prompt,
# cached tokens included, as the IR does (router/formats/ir.py Usage).
_Fields = dict[str, tuple[str, ...]]
_OPENAI_RESPONSES_FIELDS: _Fields = {
    "tokens_in": ("input_tokens",),
    "tokens_out": ("output_tokens",),
    "tokens_cached": ("input_tokens_details", "cached_tokens"),
    "tokens_reasoning": ("output_tokens_details", "reasoning_tokens"),
}
_ANTHROPIC_FIELDS: _Fields = {
    "tokens_in": ("input_tokens",),
    "tokens_out": ("output_tokens",),
    "tokens_cached": ("cache_read_input_tokens",),
    "tokens_cache_write": ("cache_creation_input_tokens",),
}
_USAGE_PATHS: dict[Format, list[tuple[tuple[str, ...], _Fields]]] = {
    Format.OPENAI_CHAT: [
        (
            ("usage",),
            {
                "tokens_in": ("prompt_tokens",),
                "tokens_out": ("completion_tokens",),
                "tokens_cached": ("prompt_tokens_details", "cached_tokens"),
                "tokens_reasoning": ("completion_tokens_details", "reasoning_tokens"),
            },
        )
    ],
    Format.OPENAI_RESPONSES: [
        (("usage",), _OPENAI_RESPONSES_FIELDS),
        (("response", "usage"), _OPENAI_RESPONSES_FIELDS),
    ],
    Format.ANTHROPIC: [(("usage",), _ANTHROPIC_FIELDS), (("message", "usage"), _ANTHROPIC_FIELDS)],
    Format.GEMINI: [
        (
            ("usageMetadata",),
            {
                "tokens_in": ("promptTokenCount",),
                "tokens_out": ("candidatesTokenCount",),
                "tokens_cached": ("cachedContentTokenCount",),
                "tokens_reasoning": ("thoughtsTokenCount",),
            },
        )
    ],
}


def _descend(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def usage_fields(fmt: Format, payload: Any) -> dict[str, int]:
    """Token counts for the log line from a response body or one stream event."""
    fields: dict[str, int] = {}
    for path, wanted in _USAGE_PATHS[fmt]:
        node = _descend(payload, path)
        if not isinstance(node, dict):
            continue
        for target, source in wanted.items():
            value = _descend(node, source)
            if isinstance(value, int):
                fields[target] = value
    if fmt == Format.ANTHROPIC and "tokens_in" in fields:
        # Anthropic's input_tokens leaves out the cache reads and writes.
        fields["tokens_in"] += fields.get("tokens_cached", 0) + fields.get("tokens_cache_write", 0)
    if fmt == Format.GEMINI and "tokens_out" in fields:
        # Gemini's candidatesTokenCount leaves out the thinking tokens.
        fields["tokens_out"] += fields.get("tokens_reasoning", 0)
    fields.pop("tokens_cache_write", None)
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
                self.usage.update(usage_fields(self.format, loads(line)))
            except ValueError:
                continue
        self._usage_lines.clear()
