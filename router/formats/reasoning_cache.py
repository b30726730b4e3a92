"""Signed reasoning kept across turns for clients whose format cannot carry it.

An upstream that checks its reasoning (Anthropic's signed thinking, Gemini's thought
signatures, Responses' encrypted reasoning, the `reasoning_content` DeepSeek and Kimi
require on an OpenAI Chat assistant message with tool calls) wants it back on the next
turn of a tool loop. An OpenAI Chat client has nowhere to keep it, and some Gemini
clients drop thought parts, so the reasoning an upstream issued before a tool call is
remembered here, keyed by the call id the client sees, and put back in front of that
call when the client's history comes back (`with_cached_reasoning`). Bounded: least
recently used entries go first past `max_entries`, and an entry older than `ttl`
seconds is gone. With several router workers the entries are also written to a shared store
(`share`), so the worker that gets the next turn finds what another worker remembered.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from router.formats.ir import (
    BlockStart,
    BlockStop,
    Format,
    Message,
    Part,
    ReasoningDelta,
    ReasoningPart,
    Request,
    SignatureDelta,
    StreamEvent,
    ToolCallPart,
)

if TYPE_CHECKING:
    from router.formats.codec import StreamDecoder
    from router.formats.sse import SSEEvent

DEFAULT_MAX_ENTRIES = 4096
DEFAULT_TTL = 6 * 3600.0


class SharedEntries(Protocol):
    """Where other worker processes find entries (router/shared/ implements it)."""

    def hold(self, name: str, value: str, expires_at: float) -> None: ...

    def peek(self, name: str, now: float) -> str | None: ...


def _encoded(parts: tuple[ReasoningPart, ...]) -> str:
    return json.dumps([[p.text, p.signature, p.source.value, p.redacted, p.item_id] for p in parts])


def _decoded(text: str) -> tuple[ReasoningPart, ...]:
    return tuple(
        ReasoningPart(body, signature, Format(source), redacted, item_id)
        for body, signature, source, redacted, item_id in json.loads(text)
    )


class ReasoningCache:
    """tool-call id -> the signed reasoning the upstream gave before that call."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, tuple[ReasoningPart, ...]]] = OrderedDict()
        self._shared: SharedEntries | None = None

    def share(self, shared: SharedEntries) -> None:
        """Write entries through to ``shared`` and look there on a miss."""
        self._shared = shared

    def __len__(self) -> int:
        return len(self._entries)

    def __deepcopy__(self, memo: dict) -> ReasoningCache:
        return self  # process-wide: a copied TranslationContext shares it

    def remember(self, call_id: str, parts: list[ReasoningPart]) -> None:
        self._keep(call_id, tuple(parts), self._clock() + self.ttl)
        if self._shared is not None:
            self._shared.hold(
                f"reasoning:{call_id}", _encoded(tuple(parts)), time.monotonic() + self.ttl
            )

    def _keep(self, call_id: str, parts: tuple[ReasoningPart, ...], expires: float) -> None:
        entries = self._entries
        entries[call_id] = (expires, parts)
        entries.move_to_end(call_id)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def recall(self, call_id: str) -> tuple[ReasoningPart, ...] | None:
        entry = self._entries.get(call_id)
        if entry is None:
            return self._recall_shared(call_id)
        expires, parts = entry
        if self._clock() >= expires:
            del self._entries[call_id]
            return None
        self._entries.move_to_end(call_id)
        return parts

    def _recall_shared(self, call_id: str) -> tuple[ReasoningPart, ...] | None:
        if self._shared is None:
            return None
        found = self._shared.peek(f"reasoning:{call_id}", time.monotonic())
        if found is None:
            return None
        parts = _decoded(found)
        self._keep(call_id, parts, self._clock() + self.ttl)
        return parts

    def remember_parts(self, parts: list[Part]) -> None:
        """Record, for each tool call of an answer, the signed reasoning just before it."""
        run: list[ReasoningPart] = []
        for part in parts:
            if isinstance(part, ReasoningPart):
                run.append(part)
            elif isinstance(part, ToolCallPart):
                if wanted_back(run):
                    self.remember(part.id, run)
                run = []


def wanted_back(run: list[ReasoningPart]) -> bool:
    """Reasoning an upstream wants to see again on the turn of its tool call: anything
    signed, and OpenAI Chat's unsigned `reasoning_content` (DeepSeek and Kimi in thinking
    mode answer 400 to an assistant tool-call message without it)."""
    return any(r.signature or (r.source is Format.OPENAI_CHAT and r.text) for r in run)


REASONING_CACHE = ReasoningCache()


class ReasoningRecorder:
    """Watches an upstream's IR stream events and remembers signed reasoning per call."""

    __slots__ = ("_cache", "_current", "_run", "_texts")

    def __init__(self, cache: ReasoningCache) -> None:
        self._cache = cache
        self._run: list[ReasoningPart] = []
        self._current: ReasoningPart | None = None
        self._texts: list[str] = []

    def observe(self, events: list[StreamEvent]) -> list[StreamEvent]:
        for ev in events:
            kind = type(ev)
            if kind is ReasoningDelta:
                self._texts.append(ev.text)  # type: ignore[union-attr]
            elif kind is SignatureDelta and self._current is not None:
                self._current.signature = (self._current.signature or "") + ev.signature  # type: ignore[union-attr]
            elif kind is BlockStart:
                self._start(ev)  # type: ignore[arg-type]
            elif kind is BlockStop:
                self._stop()
        return events

    def _start(self, ev: BlockStart) -> None:
        if ev.kind == "reasoning":
            source = ev.source or Format.ANTHROPIC
            self._current = ReasoningPart("", None, source, redacted=ev.redacted)
            self._texts = []
        elif ev.kind == "tool_call" and ev.id:
            if wanted_back(self._run):
                self._cache.remember(ev.id, self._run)
            self._run = []

    def _stop(self) -> None:
        current = self._current
        if current is not None:
            current.text = "".join(self._texts)
            self._run.append(current)
            self._current = None


def with_cached_reasoning(req: Request, target: Format, cache: ReasoningCache) -> Request:
    """The request with the remembered reasoning of `target` in front of each tool call
    of the history (what the cache holds replaces what the client carried of it; a call
    the cache does not know keeps the client's). The IR is shared between candidates, so
    changed messages are new objects."""
    messages = None
    for i, msg in enumerate(req.messages):
        if msg.role != "assistant":
            continue
        parts = _restored_parts(msg.parts, target, cache)
        if parts is not None:
            if messages is None:
                messages = list(req.messages)
            messages[i] = Message(msg.role, parts)
    return req if messages is None else dataclasses.replace(req, messages=messages)


def _restored_parts(parts: list[Part], target: Format, cache: ReasoningCache) -> list[Part] | None:
    """Anthropic's thinking leads the turn; other formats' reasoning precedes its call."""
    out: list[Part] = []
    segment: list[Part] = []
    leading: list[ReasoningPart] = []
    changed = False
    for part in parts:
        if not isinstance(part, ToolCallPart):
            segment.append(part)
            continue
        cached = cache.recall(part.id)
        own = [r for r in cached or () if r.source is target]
        if own:
            changed = True
            segment = [p for p in segment if not _is_reasoning_of(p, target)]
            if target is Format.ANTHROPIC:
                leading.extend(own)
            else:
                segment.extend(own)
        out.extend(segment)
        out.append(part)
        segment = []
    if not changed:
        return None
    out.extend(segment)
    if leading:
        out = [*leading, *(p for p in out if not _is_reasoning_of(p, target))]
    return out


def _is_reasoning_of(part: Part, target: Format) -> bool:
    return isinstance(part, ReasoningPart) and part.source is target


class RecordingDecoder:
    """An upstream stream decoder whose events also feed a ReasoningRecorder."""

    __slots__ = ("_inner", "_observe")

    def __init__(self, inner: StreamDecoder, cache: ReasoningCache) -> None:
        self._inner = inner
        self._observe = ReasoningRecorder(cache).observe

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        return self._observe(self._inner.feed(event))

    def close(self) -> list[StreamEvent]:
        return self._observe(self._inner.close())
