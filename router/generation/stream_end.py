"""Whether a relayed stream reached its format's end, judged from its bytes alone.

A passthrough stream is never decoded, so its end is recognised by a byte pattern per
format, searched in each chunk (plus a short overlap with the bytes before it, for a
marker split between chunks). The patterns only match JSON structure or SSE field lines,
never text inside a JSON string (where quotes are escaped and newlines encoded):

- OpenAI Chat: the ``data: [DONE]`` line.
- Anthropic: the ``message_stop`` event.
- OpenAI Responses: ``response.completed``, ``response.failed`` or ``response.incomplete``.
- Gemini: the stream has no end event; the server closes it after the chunk whose
  candidate carries a ``finishReason`` (or, for a blocked prompt, after a chunk with
  ``promptFeedback.blockReason`` and no candidate). Seeing either key counts as the end.

An in-band error event (``data: {"error": ...}``, Anthropic's and Responses' ``error``
event) also ends a stream: the upstream already told the client what went wrong.
"""

from __future__ import annotations

import re

from router.formats import Format

_DATA_ERROR = rb'^data: ?\{\s*"error"\s*:'
_EVENT_TYPE = rb'^event: ?(?:{names})\s*$|"type"\s*:\s*"(?:{names})"'

_END_PATTERNS: dict[Format, re.Pattern[bytes]] = {
    Format.OPENAI_CHAT: re.compile(rb"^data: ?\[DONE\]|" + _DATA_ERROR, re.M),
    Format.ANTHROPIC: re.compile(_EVENT_TYPE.replace(b"{names}", rb"message_stop|error"), re.M),
    Format.OPENAI_RESPONSES: re.compile(
        _EVENT_TYPE.replace(
            b"{names}", rb"response\.completed|response\.failed|response\.incomplete|error"
        ),
        re.M,
    ),
    Format.GEMINI: re.compile(rb'"(?:finishReason|blockReason)"\s*:|' + _DATA_ERROR, re.M),
}

# Literals one of which every match contains: the pattern runs only where one is present,
# so a chunk without any costs a few substring tests.
_NEEDLES: dict[Format, tuple[bytes, ...]] = {
    Format.OPENAI_CHAT: (b"[DONE]", b'"error"'),
    Format.ANTHROPIC: (b"message_stop", b"error"),
    Format.OPENAI_RESPONSES: (
        b"response.completed",
        b"response.failed",
        b"response.incomplete",
        b"error",
    ),
    Format.GEMINI: (b"Reason", b'"error"'),
}

# Longer than any marker, so one split between two chunks is still seen whole.
_OVERLAP = 64

END_DESCRIPTIONS = {
    Format.OPENAI_CHAT: "data: [DONE]",
    Format.ANTHROPIC: "message_stop",
    Format.OPENAI_RESPONSES: "response.completed",
    Format.GEMINI: "a chunk with finishReason",
}


class EndWatch:
    """Fed every chunk of one stream; ``seen`` turns True once its end marker passed."""

    __slots__ = ("_needles", "_pattern", "_tail", "seen")

    def __init__(self, fmt: Format) -> None:
        self._pattern = _END_PATTERNS[fmt]
        self._needles = _NEEDLES[fmt]
        self._tail = b"\n"
        self.seen = False

    def feed(self, chunk: bytes) -> None:
        if self.seen:
            return
        # Searches start at 1, where ``^`` knows the byte before: the chunk's first byte is
        # judged in the overlap, whose own first byte was judged in an earlier one.
        if self._matches(chunk) or self._matches(self._tail + chunk[:_OVERLAP]):
            self.seen = True
            return
        if len(chunk) >= _OVERLAP:
            self._tail = chunk[-_OVERLAP:]
        else:
            self._tail = (self._tail + chunk)[-_OVERLAP:]

    def _matches(self, data: bytes) -> bool:
        for needle in self._needles:
            if needle in data:
                return self._pattern.search(data, 1) is not None
        return False
