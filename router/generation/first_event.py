"""Judges a stream's first chunk before anything reaches the client, so that a 200 whose
body is not the promised format can still fail over.

Only the events complete in the first chunk are looked at, once per stream: the first
event's data must be JSON (or ``[DONE]``), and for a translated stream every complete
event must also go through a throwaway copy of the decoder the stream will use.
"""

from __future__ import annotations

import copy

from router.formats import Format, SSEParser, TranslationContext, get_codec
from router.jsonio import loads


def first_chunk_problem(
    chunk: bytes, upstream: Format, passthrough: bool, ctx: TranslationContext
) -> str | None:
    """What is wrong with ``chunk`` as the first of ``upstream``'s stream, or None."""
    events = SSEParser().feed(chunk)
    if not events:
        return None
    data = events[0].data.strip()
    if data != "[DONE]":
        try:
            loads(data)
        except ValueError:
            return "sent a first stream event that is not JSON"
    if passthrough:
        return None
    decoder = get_codec(upstream).stream_decoder(copy.deepcopy(ctx))
    try:
        for event in events:
            decoder.feed(event)
    except Exception:
        return f"sent a first stream event that is not valid {upstream.value}"
    return None
