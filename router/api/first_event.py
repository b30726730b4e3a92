"""Judges a stream's first chunk before anything reaches the client, so that a 200 whose
body is not the promised format can still fail over.

Only the events complete in the first chunk are looked at, once per stream: a passthrough
stream's first event must be JSON (or ``[DONE]``); a translated stream's complete events
must go through a throwaway copy of the decoder the stream will use.
"""

from __future__ import annotations

import copy
import json

from router.formats import Format, SSEParser, TranslationContext, get_codec


def first_chunk_problem(
    chunk: bytes, upstream: Format, passthrough: bool, ctx: TranslationContext
) -> str | None:
    """What is wrong with ``chunk`` as the first of ``upstream``'s stream, or None."""
    events = SSEParser().feed(chunk)
    if not events:
        return None
    if passthrough:
        data = events[0].data.strip()
        if data == "[DONE]":
            return None
        try:
            json.loads(data)
        except ValueError:
            return "sent a first stream event that is not JSON"
        return None
    decoder = get_codec(upstream).stream_decoder(copy.deepcopy(ctx))
    try:
        for event in events:
            decoder.feed(event)
    except Exception:
        return f"sent a first stream event that is not valid {upstream.value}"
    return None
