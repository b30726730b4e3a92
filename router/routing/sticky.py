"""Sticky sessions: a conversation keeps the credential that answered it last.

Upstream prompt caches are per account, so the next turn of a conversation pays off only
on the credential that saw the last one. A conversation is known by what its client
sends: Claude Code's ``metadata.user_id`` (``user_<hash>_account_<id>_session_<uuid>``,
or newer releases' JSON with a ``session_id``), Codex's ``prompt_cache_key``, an
``X-Session-Id`` header; else a hash of its start (system prompt and the first user
turn), which stays the same as the conversation grows. A request known only by its start
is looked up only when it continues a conversation (it has turns after the first user
turn): identical one-shot requests keep spreading over the credentials. The store is bounded: least
recently used conversations go first past ``max-sessions``, and any is forgotten
``ttl`` seconds after its last request. The selector tries the remembered credential
first while it is not cooling down; when another one answers, the conversation moves.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from router.config.rules import StickyConfig
from router.formats import Format
from router.jsonio import dumps_sorted, loads
from router.routing.selector import Pin

_SESSION_IN_USER_ID = re.compile(r"_session_([0-9A-Za-z-]{8,})$")
# Where each format keeps the instructions and the conversation.
_PREFIX_FIELDS: dict[Format, tuple[str, str]] = {
    Format.ANTHROPIC: ("system", "messages"),
    Format.OPENAI_CHAT: ("", "messages"),
    Format.OPENAI_RESPONSES: ("instructions", "input"),
    Format.GEMINI: ("systemInstruction", "contents"),
}
_FIRST_USER_ROLES = ("user",)


def _claude_code_session(body: Mapping[str, Any]) -> str | None:
    metadata = body.get("metadata")
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    if not isinstance(user_id, str) or not user_id:
        return None
    if user_id.startswith("{"):
        try:
            parsed = loads(user_id)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("session_id"), str):
            return parsed["session_id"]
    match = _SESSION_IN_USER_ID.search(user_id)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Session:
    """``key`` names the conversation; ``continued``: an earlier turn may be remembered."""

    key: str
    continued: bool = True


def _conversation_start(fmt: Format, body: Mapping[str, Any]) -> Session | None:
    """A hash of the system prompt and the turns up to the first user turn."""
    system_key, turns_key = _PREFIX_FIELDS[fmt]
    turns = body.get(turns_key)
    if isinstance(turns, str):
        turns = [turns]
    if not isinstance(turns, list) or not turns:
        return None
    prefix: list[Any] = []
    for turn in turns:
        prefix.append(turn)
        if not isinstance(turn, dict) or turn.get("role", "user") in _FIRST_USER_ROLES:
            break
    start = [body.get(system_key) if system_key else None, prefix]
    digest = hashlib.sha256(dumps_sorted(start))
    return Session("p:" + digest.hexdigest()[:32], continued=len(turns) > len(prefix))


def session_of(fmt: Format, body: Mapping[str, Any], headers: Mapping[str, str]) -> Session | None:
    """The conversation a request belongs to (None: cannot tell)."""
    header = next((v for k, v in headers.items() if k.lower() == "x-session-id"), None)
    if header:
        return Session("h:" + header)
    session = _claude_code_session(body) if fmt == Format.ANTHROPIC else None
    if session:
        return Session("cc:" + session)
    cache_key = body.get("prompt_cache_key")
    if isinstance(cache_key, str) and cache_key:
        return Session("pck:" + cache_key)
    return _conversation_start(fmt, body)


class StickySessions:
    """A bounded, expiring map of conversation -> the credential that answered it last."""

    def __init__(self, config: StickyConfig, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self._clock = clock
        self._pins: OrderedDict[tuple[str, str], tuple[Pin, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pins)

    def get(self, model: str, session: Session | None) -> Pin | None:
        if session is None or not session.continued or not self.config.enabled:
            return None
        key = (model, session.key)
        entry = self._pins.get(key)
        if entry is None:
            return None
        pin, expires = entry
        if expires <= self._clock():
            del self._pins[key]
            return None
        self._pins.move_to_end(key)
        return pin

    def remember(self, model: str, session: Session | None, provider: str, credential: str) -> None:
        if session is None or not self.config.enabled:
            return
        key = (model, session.key)
        self._pins[key] = (Pin(provider, credential), self._clock() + self.config.ttl)
        self._pins.move_to_end(key)
        while len(self._pins) > self.config.max_sessions:
            self._pins.popitem(last=False)
