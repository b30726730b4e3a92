"""Same format in and out: forward the upstream's bytes, changing only the model name.

Streams are relayed chunk by chunk without decoding them; the only look inside a chunk is
a substring test for ``"usage"`` so the log line can carry token counts.
"""

from __future__ import annotations

import json
from typing import Any

from router.api.errors import error_body
from router.errors import ProxyError


def usage_fields(payload: Any) -> dict[str, int]:
    """Token counts from an OpenAI-style ``usage`` object, for the log line."""
    usage = payload.get("usage") if isinstance(payload, dict) else None
    if not isinstance(usage, dict):
        return {}
    fields = {}
    for source, target in (("prompt_tokens", "tokens_in"), ("completion_tokens", "tokens_out")):
        value = usage.get(source)
        if isinstance(value, int):
            fields[target] = value
    return fields


class OpenAIChatPassthrough:
    """Relays an OpenAI Chat SSE stream as is."""

    def __init__(self, client_format: str) -> None:
        self.client_format = client_format
        self.usage: dict[str, int] = {}

    def feed(self, chunk: bytes) -> bytes:
        if b'"usage"' in chunk:
            self._note_usage(chunk)
        return chunk

    def finish(self) -> bytes:
        return b""

    def fail(self, error: ProxyError) -> bytes:
        return b"data: " + json.dumps(error_body(self.client_format, error)).encode() + b"\n\n"

    def _note_usage(self, chunk: bytes) -> None:
        for line in chunk.split(b"\n"):
            if line.startswith(b"data:") and b'"usage"' in line:
                try:
                    self.usage = usage_fields(json.loads(line[5:])) or self.usage
                except ValueError:
                    continue
