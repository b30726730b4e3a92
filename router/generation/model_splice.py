"""Passthrough with another model name: the client's bytes with only the top-level
``"model"`` value replaced, so every other byte reaches the upstream as the client wrote it.

It works on a body that already parsed as a JSON object whose ``model`` is ``old``. In
valid JSON an unescaped ``"model"`` followed by a colon is a key; when exactly one such
key exists, it is the top-level one and its string value is replaced. Anything else
(several ``model`` keys at different depths, a value that is not ``old``) returns None and
the caller re-encodes the body. A key written with ``\\u`` escapes is invisible to the
search, so a body with any ``\\u`` escape is parsed once more to confirm the result.
"""

from __future__ import annotations

from router.jsonio import dumps, loads

_KEY = b'"model"'
_SPACE = b" \t\r\n"


def _key_ends(raw: bytes) -> list[int]:
    """Offsets just past the colon of every unescaped ``"model"`` key in ``raw``."""
    ends = []
    at = raw.find(_KEY)
    while at >= 0:
        after = at + len(_KEY)
        if at == 0 or raw[at - 1] != 0x5C:  # not preceded by a backslash: a string token
            colon = after
            while colon < len(raw) and raw[colon] in _SPACE:
                colon += 1
            if colon < len(raw) and raw[colon] == 0x3A:  # ':' : a key, not a value
                ends.append(colon + 1)
        at = raw.find(_KEY, after)
    return ends


def _string_end(raw: bytes, start: int) -> int:
    """Offset just past the string token that opens at ``start`` (``raw[start] == '"'``)."""
    at = raw.find(b'"', start + 1)
    while at >= 0:
        backslashes = 0
        while raw[at - 1 - backslashes] == 0x5C:
            backslashes += 1
        if backslashes % 2 == 0:
            return at + 1
        at = raw.find(b'"', at + 1)
    return -1


def splice_model(raw: bytes, old: str, new: str) -> bytes | None:
    """``raw`` with its top-level model ``old`` replaced by ``new``; None when unsafe."""
    ends = _key_ends(raw)
    if len(ends) != 1:
        return None
    start = ends[0]
    while start < len(raw) and raw[start] in _SPACE:
        start += 1
    if start >= len(raw) or raw[start] != 0x22:  # '"'
        return None
    end = _string_end(raw, start)
    if end < 0 or loads(raw[start:end]) != old:
        return None
    spliced = raw[:start] + dumps(new) + raw[end:]
    if b"\\u" in raw and loads(spliced).get("model") != new:
        return None
    return spliced
