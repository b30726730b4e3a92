"""The open content block of a stream decoder that opens blocks itself.

Gemini, OpenAI Chat and Responses streams do not number content blocks the way the IR
does, so their decoders keep one block open at a time: the IR index and the kind of the
open block, a BlockStop before the next BlockStart. (Anthropic's decoder maps the
upstream's own block indexes instead.)
"""

from __future__ import annotations

from typing import Any

from router.formats.ir import BlockStart, BlockStop, StreamEvent


class BlockCursor:
    """Base of a stream decoder: ``_index`` and ``_kind`` of the block open now (-1 and None
    before the first)."""

    __slots__ = ("_index", "_kind")

    def __init__(self) -> None:
        self._index = -1
        self._kind: str | None = None

    def _open(self, out: list[StreamEvent], kind: str, **kw: Any) -> int:
        """Close the open block, if any, and open the next one; its index."""
        self._close(out)
        self._index += 1
        self._kind = kind
        out.append(BlockStart(self._index, kind, **kw))
        return self._index

    def _close(self, out: list[StreamEvent]) -> None:
        if self._kind is not None:
            out.append(BlockStop(self._index))
            self._kind = None
