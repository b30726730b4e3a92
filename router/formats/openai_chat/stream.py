"""OpenAI Chat Completions streams: chunk decoder (upstream side) and encoder (client side)."""

from __future__ import annotations

from typing import Any

from router.formats.codec import dumps, event_object
from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind, kind_for_status
from router.formats.ir import (
    BlockStart,
    Finish,
    Format,
    MessageStart,
    ReasoningDelta,
    StopReason,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolArgsDelta,
    Usage,
)
from router.formats.openai_chat.response import (
    FINISH_IN,
    FINISH_OUT,
    decode_chat_usage,
    encode_chat_usage,
    openai_error_body,
)
from router.formats.sse import SSEEvent, encode_sse
from router.formats.stream_blocks import BlockCursor
from router.jsonio import loads

FMT = Format.OPENAI_CHAT


class _StreamedCall:
    """One tool call of a Chat stream, keyed by its `index` in the deltas."""

    __slots__ = ("args", "block", "id", "name")

    def __init__(self, call_id: str, name: str) -> None:
        self.id = call_id
        self.name = name
        self.args: list[str] = []
        self.block: int | None = None


def _complete_json(parts: list[str]) -> bool:
    """Whether the argument text received so far is a whole JSON value (cheap test first:
    an object is only complete once its last character is the closing brace)."""
    text = "".join(parts).rstrip()
    if not text.endswith("}"):
        return False
    try:
        loads(text)
    except ValueError:
        return False
    return True


class ChatStreamDecoder(BlockCursor):
    """Chat completion chunks -> IR stream events.

    Tool calls: the IR wants one block at a time, but some upstreams interleave the
    argument deltas of parallel calls (by `index`). The first call streams live; a call
    that starts while the live one's arguments are not yet a whole JSON value is held
    back and its deltas are buffered. A held-back call becomes the live one (its buffer
    emitted as one delta) as soon as the live call's arguments are complete; whatever is
    still held back when the tool calls end is flushed in order. Sequential calls, the
    usual case, therefore all stream live.
    """

    __slots__ = (
        "_calls",
        "_ctx",
        "_done",
        "_finish",
        "_live",
        "_started",
        "_usage",
        "_waiting",
    )

    def __init__(self, ctx: TranslationContext) -> None:
        super().__init__()
        self._ctx = ctx
        self._started = False
        self._done = False
        self._calls: dict[int, _StreamedCall] = {}
        self._live: _StreamedCall | None = None
        self._waiting: list[_StreamedCall] = []
        self._finish: str | None = None
        self._usage: Usage | None = None

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._done:
            return []
        data = event.data
        if data == "[DONE]":
            return self._end()
        chunk = event_object(data)
        if chunk is None:
            return []
        if "error" in chunk:
            return self._error(chunk["error"])
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            out.append(MessageStart(id=chunk.get("id") or "", model=chunk.get("model") or ""))
        usage = chunk.get("usage")
        if usage:
            self._usage = decode_chat_usage(usage)
        choices = chunk.get("choices")
        if choices:
            self._choice(choices[0], out)
        return out

    def _choice(self, choice: dict, out: list[StreamEvent]) -> None:
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            if self._kind != "reasoning":
                self._flush_waiting(out)
                self._open(out, "reasoning", source=FMT)
            out.append(ReasoningDelta(self._index, reasoning))
        content = delta.get("content")
        if content:
            if self._kind != "text":
                self._flush_waiting(out)
                self._open(out, "text")
            out.append(TextDelta(self._index, content))
        calls = delta.get("tool_calls")
        if calls and not self._tool_deltas(calls, out):
            return
        finish = choice.get("finish_reason")
        if finish:
            self._finish = finish
            self._flush_waiting(out)

    def _tool_deltas(self, calls: list, out: list[StreamEvent]) -> bool:
        """False (and the stream ends with an error) when a delta cannot be placed."""
        for call in calls:
            if isinstance(call, dict) and not self._tool_delta(out, call):
                self._done = True
                out.append(
                    StreamError(
                        502,
                        "upstream sent arguments for a tool call that had already ended",
                        ErrorKind.API_ERROR,
                    )
                )
                return False
        return True

    def _error(self, error: Any) -> list[StreamEvent]:
        self._done = True
        err = error if isinstance(error, dict) else {}
        code = err.get("code")
        status = code if isinstance(code, int) else 502
        message = str(err.get("message") or "upstream error")
        return [StreamError(status, message, kind_for_status(status))]

    def _close(self, out: list[StreamEvent]) -> None:
        if self._kind is not None:
            super()._close(out)
            self._live = None

    def _go_live(self, out: list[StreamEvent], call: _StreamedCall) -> None:
        call.block = self._open(out, "tool_call", id=call.id, name=call.name)
        self._live = call
        if call.args:
            out.append(ToolArgsDelta(call.block, "".join(call.args)))

    def _flush_waiting(self, out: list[StreamEvent]) -> None:
        """Close the live call and emit every held-back call, in the order they began."""
        self._close(out)
        for call in self._waiting:
            self._go_live(out, call)
            self._close(out)
        self._waiting.clear()

    def _promote(self, out: list[StreamEvent]) -> None:
        """Make held-back calls live, in order, while the live call's arguments are whole."""
        while self._waiting and (self._live is None or _complete_json(self._live.args)):
            self._go_live(out, self._waiting.pop(0))

    def _tool_delta(self, out: list[StreamEvent], call: dict) -> bool:
        """Handle one tool_calls delta; False when it cannot be placed (see below)."""
        oi = call.get("index", 0)
        fn = call.get("function") or {}
        args = fn.get("arguments") or ""
        known = self._calls.get(oi)
        if known is None:
            ctx = self._ctx
            known = _StreamedCall(
                ctx.call_id_in(call.get("id") or f"call_{ctx.request_id}_{oi}"),
                ctx.tool_name_in(fn.get("name") or ""),
            )
            self._calls[oi] = known
            self._waiting.append(known)
        if args:
            known.args.append(args)
            if known is self._live:
                out.append(ToolArgsDelta(self._index, args))
                return True
            if known.block is not None:
                # Its block was already closed (the call looked complete, or text came
                # in between): the IR cannot reopen it, and dropping text would be silent.
                return bool(args.isspace())
        self._promote(out)
        return True

    def _end(self) -> list[StreamEvent]:
        self._done = True
        out: list[StreamEvent] = []
        if not self._started:
            out.append(MessageStart(id="", model=""))
        self._flush_waiting(out)
        stop = FINISH_IN.get(self._finish or "stop", StopReason.END_TURN)
        out.append(Finish(stop, self._usage or Usage()))
        return out

    def close(self) -> list[StreamEvent]:
        if self._done:
            return []
        if self._finish is not None:
            return self._end()
        self._done = True
        return [StreamError(502, "upstream stream ended before completion", ErrorKind.API_ERROR)]


_DELTA_HEAD = '"choices":[{"index":0,"delta":'


class ChatStreamEncoder:
    """IR stream events -> chat.completion.chunk SSE bytes."""

    __slots__ = ("_errored", "_prefix", "_tool_index", "_tools")

    def __init__(self, ctx: TranslationContext) -> None:
        head = {
            "id": f"chatcmpl-{ctx.request_id}",
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.client_model,
        }
        self._prefix = dumps(head)[:-1] + "," + _DELTA_HEAD
        self._tools: dict[int, int] = {}
        self._tool_index = 0
        self._errored = False

    def _chunk(self, delta: str, finish: str | None = None) -> bytes:
        tail = ',"finish_reason":null}]}' if finish is None else f',"finish_reason":"{finish}"}}]}}'
        return b"data: " + (self._prefix + delta + tail).encode() + b"\n\n"

    def encode(self, ev: StreamEvent) -> bytes:
        match ev:
            case TextDelta():
                return self._chunk('{"content":' + dumps(ev.text) + "}")
            case ToolArgsDelta():
                k = self._tools[ev.index]
                arguments = dumps(ev.partial_json)
                return self._chunk(
                    f'{{"tool_calls":[{{"index":{k},"function":{{"arguments":{arguments}}}}}]}}'
                )
            case ReasoningDelta():
                return self._chunk('{"reasoning_content":' + dumps(ev.text) + "}")
            case BlockStart(kind="tool_call"):
                return self._tool_start(ev)
            case MessageStart():
                return self._chunk('{"role":"assistant","content":""}')
            case Finish():
                head = self._prefix[: -len(_DELTA_HEAD)]
                usage = head + '"choices":[],"usage":' + dumps(encode_chat_usage(ev.usage)) + "}"
                return self._chunk("{}", FINISH_OUT[ev.stop_reason]) + encode_sse(usage)
            case StreamError():
                self._errored = True
                return encode_sse(dumps(openai_error_body(ev.message, ev.kind)))
        return b""

    def _tool_start(self, ev: BlockStart) -> bytes:
        k = self._tool_index
        self._tool_index += 1
        self._tools[ev.index] = k
        call = {
            "index": k,
            "id": ev.id,
            "type": "function",
            "function": {"name": ev.name, "arguments": ""},
        }
        return self._chunk('{"tool_calls":[' + dumps(call) + "]}")

    def finish(self) -> bytes:
        return b"" if self._errored else b"data: [DONE]\n\n"
