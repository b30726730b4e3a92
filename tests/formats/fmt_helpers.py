"""Shared helpers for the format tests: drive streams chunk by chunk and parse output."""

from __future__ import annotations

import json

from router.formats import SSEParser, TranslationContext, get_codec
from router.formats.ir import Format


def ctx(model: str = "client-model") -> TranslationContext:
    return TranslationContext(client_model=model, request_id="req123", created=1700000000)


def sse_bytes(events: list[tuple[str | None, dict | str]]) -> bytes:
    out = []
    for name, data in events:
        payload = data if isinstance(data, str) else json.dumps(data)
        out.append((f"event: {name}\n" if name else "") + f"data: {payload}\n\n")
    return "".join(out).encode()


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def translate_stream(
    upstream: Format,
    client: Format,
    raw: bytes,
    chunk: int = 7,
    c: TranslationContext | None = None,
) -> tuple[list, bytes]:
    """Feed raw upstream SSE through parser, decoder and encoder in small chunks.
    Returns (IR events, client bytes)."""
    c = c or ctx()
    parser = SSEParser()
    dec = get_codec(upstream).stream_decoder(c)
    enc = get_codec(client).stream_encoder(c)
    events: list = []
    out = bytearray()
    for piece in split_every(raw, chunk):
        for sse in parser.feed(piece):
            for ev in dec.feed(sse):
                events.append(ev)
                out += enc.encode(ev)
    for sse in parser.close():
        for ev in dec.feed(sse):
            events.append(ev)
            out += enc.encode(ev)
    for ev in dec.close():
        events.append(ev)
        out += enc.encode(ev)
    out += enc.finish()
    return events, bytes(out)


def parse_sse(raw: bytes) -> list[tuple[str | None, object]]:
    """Client bytes -> [(event name, parsed data)] ("[DONE]" stays a string)."""
    parser = SSEParser()
    events = parser.feed(raw) + parser.close()
    return [(e.event, e.data if e.data == "[DONE]" else json.loads(e.data)) for e in events]
