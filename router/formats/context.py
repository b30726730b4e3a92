"""Per-request translation state carried from the request to its response."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass, field

from router.formats.reasoning_cache import REASONING_CACHE, ReasoningCache
from router.formats.toolnames import shorten_tool_name

_CALL_ID_OK = re.compile(r"^[a-zA-Z0-9_-]+$")
_CALL_ID_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]")

DEFAULT_MAX_TOKENS = 8192


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def sanitize_call_id(call_id: str) -> str:
    """Deterministic id matching ^[a-zA-Z0-9_-]+$ (Anthropic's rule, accepted everywhere)."""
    if _CALL_ID_OK.match(call_id):
        return call_id
    return f"{_CALL_ID_BAD_CHARS.sub('_', call_id)[:40]}_{_digest(call_id)}"


@dataclass(slots=True)
class TranslationContext:
    """One per client request.

    client_model: the model name the client asked for; echoed back in every response.
    request_id: used to build response / item / call ids.
    tool_names: shortened name -> original name (filled by encode_request, used when
      decoding the upstream answer so the client sees its own names exactly).
    call_ids: rewritten call id -> original id (same idea for tool call ids).
    default_max_tokens: used where the target requires max tokens (Anthropic).
    sse: Gemini clients only; False when streamGenerateContent was called without
      alt=sse, so the stream encoder writes one incrementally streamed JSON array.
    strict: when False (the default) a field the target cannot express that does not
      change what the answer means (an unknown field, a sampling hint such as topK or
      seed) is dropped; when True it is a 400, as before issue #12.
    dropped: the client's names of the fields dropped while encoding the request (hints
      included), in order, for a log field and the X-Cliproxy-Dropped header.
    freeform_tools: client names of Responses `custom` tools (filled when the request is
      encoded), whose calls the Responses encoders send back as custom_tool_call.
    namespaced_tools: joined name -> (namespace, name) of the tools of Codex namespace
      groups, so the Responses encoders give calls their namespace back.
    merge_system: an OpenAI Chat target that wants one leading system message (provider
      option `system-messages: merge`) gets the conversation's system messages joined
      into it instead of in place.
    reasoning: the process-wide cache of signed reasoning per tool-call id, for clients
      whose history cannot carry it (reasoning_cache.py); a test may give its own.
    """

    client_model: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:24])
    created: int = field(default_factory=lambda: int(time.time()))
    tool_names: dict[str, str] = field(default_factory=dict)
    call_ids: dict[str, str] = field(default_factory=dict)
    default_max_tokens: int = DEFAULT_MAX_TOKENS
    sse: bool = True
    strict: bool = False
    dropped: list[str] = field(default_factory=list)
    freeform_tools: set[str] = field(default_factory=set)
    namespaced_tools: dict[str, tuple[str, str]] = field(default_factory=dict)
    reasoning: ReasoningCache = field(default_factory=lambda: REASONING_CACHE)
    merge_system: bool = False

    def drop(self, name: str) -> None:
        """Record that the client's field `name` was not sent upstream."""
        if name not in self.dropped:
            self.dropped.append(name)

    def tool_name_out(self, name: str) -> str:
        """Name to send upstream; remembers the mapping when it had to change."""
        short = shorten_tool_name(name)
        if short != name:
            self.tool_names[short] = name
        return short

    def tool_name_in(self, name: str) -> str:
        """Original client name for a name the upstream used."""
        return self.tool_names.get(name, name)

    def call_id_out(self, call_id: str) -> str:
        clean = sanitize_call_id(call_id)
        if clean != call_id:
            self.call_ids[clean] = call_id
        return clean

    def call_id_in(self, call_id: str) -> str:
        return self.call_ids.get(call_id, call_id)
