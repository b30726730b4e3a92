"""What the cto.new upstream hands the router: OpenAI Chat answers built from chat pieces.

A streamed answer is ``chat.completion.chunk`` SSE written as the pieces arrive (text as
``delta.content``, thinking as ``delta.reasoning_content``), ending with
``finish_reason: "stop"`` and ``data: [DONE]``. A whole answer is one
``chat.completion``. cto.new reports no token counts, so neither carries ``usage``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from router.formats.errors import kind_for_status
from router.formats.openai_chat import openai_error_body
from router.subscriptions.ctonew.engine import REASONING, Chat, Piece
from router.upstreams.transforms import BufferedReply, CountedReply

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def error_reply(status: int, message: str, on_close: Callable[[], None]) -> BufferedReply:
    body = _dumps(openai_error_body(message, kind_for_status(status))).encode()
    return BufferedReply(status, {"Content-Type": "application/json"}, body, on_close)


def completion_reply(
    head: dict[str, Any], pieces: list[Piece], on_close: Callable[[], None]
) -> BufferedReply:
    """``head``: id, created and model of the answer."""
    text = "".join(p.text for p in pieces if p.kind != REASONING)
    reasoning = "".join(p.text for p in pieces if p.kind == REASONING)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if reasoning:
        message["reasoning_content"] = reasoning
    body = {
        **head,
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
    }
    return BufferedReply(200, {"Content-Type": "application/json"}, _dumps(body).encode(), on_close)


class StreamReply(CountedReply):
    """Chat pieces as OpenAI chunk SSE, each written as it arrives.

    ``next_chunk`` raises ChatLost (a ConnectionError) when the chat socket dies first.
    Closing closes the chat: its socket and every task it runs.
    """

    def __init__(self, chat: Chat, head: dict[str, Any], on_close: Callable[[], None]) -> None:
        super().__init__(200, {"Content-Type": "text/event-stream"}, on_close)
        self._chat = chat
        self._prefix = _dumps({**head, "object": "chat.completion.chunk"})[:-1]
        self._started = False
        self._ended = False

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f'data: {self._prefix},"choices":[{_dumps(choice)}]}}\n\n'.encode()

    async def next_chunk(self) -> bytes:
        if self._ended:
            return b""
        piece = await self._chat.next_piece()
        out = b""
        if not self._started:
            self._started = True
            out = self._chunk({"role": "assistant", "content": ""})
        if piece is None:
            self._ended = True
            self._chat.close()
            return out + self._chunk({}, "stop") + b"data: [DONE]\n\n"
        key = "reasoning_content" if piece.kind == REASONING else "content"
        return out + self._chunk({key: piece.text})

    def close(self) -> None:
        self._chat.close()
        super().close()
