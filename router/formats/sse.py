"""Incremental Server-Sent Events parsing and encoding (WHATWG event-stream rules)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class SSEEvent:
    event: str | None
    data: str


class SSEParser:
    """Feed raw bytes as they arrive; get back every event completed so far.

    Handles \\n, \\r\\n and \\r line ends (also split across chunks), comment lines,
    multi-line data fields and UTF-8 sequences split between chunks.
    """

    __slots__ = ("_buf", "_data", "_event", "_pending_cr", "_tail")

    def __init__(self) -> None:
        self._buf = ""
        self._tail = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self._tail:
            text = self._decode_split(chunk)
        else:
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                text = self._decode_split(chunk)
        if self._pending_cr or "\r" in text:
            text = self._normalise_line_ends(text)
        buf = self._buf + text
        if "\n" not in buf:
            self._buf = buf
            return []
        lines = buf.split("\n")
        self._buf = lines.pop()
        events: list[SSEEvent] = []
        for line in lines:
            if not line:
                if self._data or self._event is not None:
                    events.append(SSEEvent(self._event, "\n".join(self._data)))
                    self._data = []
                    self._event = None
                continue
            if line[0] == ":":
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value[:1] == " " else value
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
        return events

    def _decode_split(self, chunk: bytes) -> str:
        """Decode after the bytes kept from the last chunk; keep a UTF-8 sequence cut at
        the end of this one for the next (invalid bytes elsewhere become U+FFFD)."""
        chunk = self._tail + chunk
        self._tail = b""
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(chunk) - 3:
                return chunk.decode("utf-8", errors="replace")
            self._tail = chunk[exc.start :]
            return chunk[: exc.start].decode("utf-8")

    def _normalise_line_ends(self, text: str) -> str:
        """\\r\\n and \\r become \\n, also when a \\r\\n pair is split between chunks."""
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]
        self._pending_cr = text.endswith("\r")
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def close(self) -> list[SSEEvent]:
        """Flush an event left unterminated when the stream ended."""
        events = self.feed(b"\n\n") if (self._buf or self._data) else []
        return events


def encode_sse(data: str, event: str | None = None) -> bytes:
    """One SSE event. `data` may contain newlines (each becomes its own data line)."""
    if "\n" in data:
        data = data.replace("\n", "\ndata: ")
    if event is None:
        return f"data: {data}\n\n".encode()
    return f"event: {event}\ndata: {data}\n\n".encode()
