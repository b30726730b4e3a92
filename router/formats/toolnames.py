"""The one tool-name shortener: a name every target API accepts, the same every time.

Used by the codecs (context.py), the ChatGPT subscription (which restores the client's
names in the answer) and the Claude subscription (which also prefixes every client tool).
"""

from __future__ import annotations

import hashlib
import re

MAX_TOOL_NAME = 64
_DIGEST_CHARS = 10
_TOOL_NAME_OK = re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]{0,63}")
_TOOL_NAME_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def shorten_tool_name(name: str, prefix: str = "", attempt: int = 0) -> str:
    """``prefix + name`` when it is already a name every target accepts (<= 64 characters
    of ``[a-zA-Z0-9_-]``, starting with a letter or underscore), else a deterministic
    shortened form: its start with invalid characters as ``_``, then ``_`` and a hash.

    ``attempt`` above 0 always hashes, with a different hash per attempt, for a caller
    that needs another candidate to avoid a collision within one request.
    """
    plain = prefix + name
    if attempt == 0 and _TOOL_NAME_OK.fullmatch(plain):
        return plain
    clean = _TOOL_NAME_BAD_CHARS.sub("_", plain)
    if not (clean[:1].isalpha() or clean[:1] == "_"):
        clean = "_" + clean
    salted = f"{attempt}:{plain}" if attempt else plain
    digest = hashlib.sha256(salted.encode()).hexdigest()[:_DIGEST_CHARS]
    return f"{clean[: MAX_TOOL_NAME - _DIGEST_CHARS - 1]}_{digest}"
