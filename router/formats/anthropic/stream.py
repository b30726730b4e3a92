"""Anthropic Messages streams: event decoder (upstream side) and encoder (client side)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from router.formats.anthropic.response import (
    STOP_IN,
    STOP_OUT,
    anthropic_error_body,
    decode_anthropic_usage,
    encode_anthropic_usage,
    error_kind,
)
from router.formats.codec import dumps, event_object, wrap_signature
from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind
from router.formats.ir import (
    BlockStart,
    BlockStop,
    Finish,
    Format,
    MessageStart,
    ReasoningDelta,
    SignatureDelta,
    StopReason,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolArgsDelta,
    Usage,
)
from router.formats.sse import SSEEvent

FMT = Format.ANTHROPIC
_CONTENT_BLOCKS = ("text", "thinking", "redacted_thinking", "tool_use")


class AnthropicStreamDecoder:
    """Anthropic SSE events -> IR stream events. content_block_delta, the event of
    almost every chunk, is handled first; the others through _HANDLERS below. Blocks
    the IR has no kind for (server tools) are skipped, so upstream indexes are mapped."""

    __slots__ = ("_ctx", "_done", "_index", "_map", "_raw_usage", "_stop", "_stop_seq", "_usage")

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._done = False
        self._index = -1
        self._map: dict[Any, int] = {}
        self._usage = Usage()
        self._raw_usage: dict = {}
        self._stop = StopReason.END_TURN
        self._stop_seq: str | None = None

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._done:
            return []
        data = event_object(event.data)
        if data is None:
            return []
        etype = data.get("type")
        if etype == "content_block_delta":
            index = self._map.get(data.get("index"))
            if index is None:
                return []
            delta = data.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                return [TextDelta(index, delta.get("text", ""))]
            if dtype == "input_json_delta":
                return [ToolArgsDelta(index, delta.get("partial_json", ""))]
            if dtype == "thinking_delta":
                return [ReasoningDelta(index, delta.get("thinking", ""))]
            if dtype == "signature_delta":
                return [SignatureDelta(index, delta.get("signature", ""), FMT)]
            return []
        handler = _HANDLERS.get(etype) if isinstance(etype, str) else None
        return [] if handler is None else handler(self, data)

    def close(self) -> list[StreamEvent]:
        if self._done:
            return []
        self._done = True
        return [StreamError(502, "upstream stream ended before completion", ErrorKind.API_ERROR)]

    def _block_start(self, data: dict) -> list[StreamEvent]:
        block = data.get("content_block") or {}
        btype = block.get("type")
        if btype not in _CONTENT_BLOCKS:
            return []
        self._index += 1
        index = self._index
        self._map[data.get("index")] = index
        if btype == "text":
            out: list[StreamEvent] = [BlockStart(index, "text")]
            if block.get("text"):
                out.append(TextDelta(index, block["text"]))
            return out
        if btype == "tool_use":
            ctx = self._ctx
            call_id = ctx.call_id_in(block.get("id") or "")
            name = ctx.tool_name_in(block.get("name") or "")
            return [BlockStart(index, "tool_call", id=call_id, name=name)]
        if btype == "thinking":
            return self._thinking_start(index, block)
        return [
            BlockStart(index, "reasoning", redacted=True, source=FMT),
            SignatureDelta(index, block.get("data") or "", FMT),
        ]

    def _thinking_start(self, index: int, block: dict) -> list[StreamEvent]:
        out: list[StreamEvent] = [BlockStart(index, "reasoning", source=FMT)]
        if block.get("thinking"):
            out.append(ReasoningDelta(index, block["thinking"]))
        if block.get("signature"):
            out.append(SignatureDelta(index, block["signature"], FMT))
        return out

    def _block_stop(self, data: dict) -> list[StreamEvent]:
        index = self._map.pop(data.get("index"), None)
        return [] if index is None else [BlockStop(index)]

    def _message_start(self, data: dict) -> list[StreamEvent]:
        message = data.get("message") or {}
        raw = message.get("usage")
        self._raw_usage = dict(raw) if isinstance(raw, dict) else {}
        self._usage = decode_anthropic_usage(self._raw_usage)
        return [MessageStart(message.get("id") or "", message.get("model") or "", self._usage)]

    def _message_delta(self, data: dict) -> list[StreamEvent]:
        delta = data.get("delta") or {}
        if delta.get("stop_reason"):
            self._stop = STOP_IN.get(delta["stop_reason"], StopReason.END_TURN)
        self._stop_seq = delta.get("stop_sequence")
        self._merge_usage(data.get("usage"))
        return []

    def _message_stop(self, data: dict) -> list[StreamEvent]:
        self._done = True
        return [Finish(self._stop, self._usage, self._stop_seq)]

    def _error(self, data: dict) -> list[StreamEvent]:
        self._done = True
        err = data.get("error") or {}
        kind = error_kind(err.get("type"))
        status = 529 if kind is ErrorKind.OVERLOADED else 502
        return [StreamError(status, str(err.get("message") or "upstream error"), kind)]

    def _merge_usage(self, usage: Any) -> None:
        """message_delta usage is cumulative; fields it omits keep their earlier value."""
        if not isinstance(usage, dict):
            return
        raw = self._raw_usage
        raw.update({k: v for k, v in usage.items() if v is not None})
        self._usage = decode_anthropic_usage(raw)


_HANDLERS: dict[str, Callable[[AnthropicStreamDecoder, dict], list[StreamEvent]]] = {
    "content_block_start": AnthropicStreamDecoder._block_start,
    "content_block_stop": AnthropicStreamDecoder._block_stop,
    "message_start": AnthropicStreamDecoder._message_start,
    "message_delta": AnthropicStreamDecoder._message_delta,
    "message_stop": AnthropicStreamDecoder._message_stop,
    "error": AnthropicStreamDecoder._error,
}


def sse_event(name: str, payload: str) -> bytes:
    return f"event: {name}\ndata: {payload}\n\n".encode()


class AnthropicStreamEncoder:
    """IR stream events -> Anthropic SSE bytes.

    Reasoning from another format gets a wrapped signature at its block's end (if it
    had none) so the client can send it back; a redacted block starts only once its
    payload (the SignatureDelta) is known."""

    __slots__ = ("_ctx", "_pending_redacted", "_signed", "_sources")

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._sources: dict[int, Format] = {}
        self._signed: set[int] = set()
        self._pending_redacted: set[int] = set()

    def encode(self, ev: StreamEvent) -> bytes:
        match ev:
            case TextDelta():
                return sse_event(
                    "content_block_delta",
                    f'{{"type":"content_block_delta","index":{ev.index},'
                    f'"delta":{{"type":"text_delta","text":{dumps(ev.text)}}}}}',
                )
            case ToolArgsDelta():
                partial = dumps(ev.partial_json)
                return sse_event(
                    "content_block_delta",
                    f'{{"type":"content_block_delta","index":{ev.index},'
                    f'"delta":{{"type":"input_json_delta","partial_json":{partial}}}}}',
                )
            case ReasoningDelta():
                return sse_event(
                    "content_block_delta",
                    f'{{"type":"content_block_delta","index":{ev.index},'
                    f'"delta":{{"type":"thinking_delta","thinking":{dumps(ev.text)}}}}}',
                )
            case BlockStart():
                return self._block_start(ev)
            case BlockStop():
                return self._block_stop(ev)
            case SignatureDelta():
                return self._signature_delta(ev)
            case MessageStart():
                return self._message_start(ev)
            case Finish():
                return self._finish(ev)
            case StreamError():
                return sse_event("error", dumps(anthropic_error_body(ev.message, ev.kind)))
        return b""

    def _start(self, index: int, block: dict) -> bytes:
        return sse_event(
            "content_block_start",
            f'{{"type":"content_block_start","index":{index},"content_block":{dumps(block)}}}',
        )

    def _signature(self, index: int, signature: str) -> bytes:
        return sse_event(
            "content_block_delta",
            f'{{"type":"content_block_delta","index":{index},'
            f'"delta":{{"type":"signature_delta","signature":{dumps(signature)}}}}}',
        )

    def _block_start(self, ev: BlockStart) -> bytes:
        if ev.kind == "text":
            return self._start(ev.index, {"type": "text", "text": ""})
        if ev.kind == "tool_call":
            block: dict = {"type": "tool_use", "id": ev.id, "name": ev.name, "input": {}}
            return self._start(ev.index, block)
        source = ev.source or FMT
        if ev.redacted and source is FMT:
            self._pending_redacted.add(ev.index)
            return b""
        if source is not FMT:
            self._sources[ev.index] = source
        return self._start(ev.index, {"type": "thinking", "thinking": "", "signature": ""})

    def _block_stop(self, ev: BlockStop) -> bytes:
        out = b""
        source = self._sources.pop(ev.index, None)
        if source is not None and ev.index not in self._signed:
            out = self._signature(ev.index, wrap_signature("", source, FMT))
        self._signed.discard(ev.index)
        return out + sse_event(
            "content_block_stop", f'{{"type":"content_block_stop","index":{ev.index}}}'
        )

    def _signature_delta(self, ev: SignatureDelta) -> bytes:
        signature = wrap_signature(ev.signature, ev.source, FMT)
        self._signed.add(ev.index)
        if ev.index in self._pending_redacted:
            self._pending_redacted.discard(ev.index)
            return self._start(ev.index, {"type": "redacted_thinking", "data": signature})
        return self._signature(ev.index, signature)

    def _message_start(self, ev: MessageStart) -> bytes:
        message: dict = {
            "id": f"msg_{self._ctx.request_id}",
            "type": "message",
            "role": "assistant",
            "model": self._ctx.client_model or ev.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": encode_anthropic_usage(ev.usage or Usage()),
        }
        return sse_event("message_start", dumps({"type": "message_start", "message": message}))

    def _finish(self, ev: Finish) -> bytes:
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": STOP_OUT[ev.stop_reason], "stop_sequence": ev.stop_sequence},
            "usage": encode_anthropic_usage(ev.usage),
        }
        return sse_event("message_delta", dumps(delta)) + sse_event(
            "message_stop", '{"type":"message_stop"}'
        )

    def finish(self) -> bytes:
        return b""
