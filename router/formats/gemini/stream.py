"""Gemini streams: chunk decoder (upstream side) and encoder (client side, SSE or one
incrementally streamed JSON array)."""

from __future__ import annotations

from typing import Any

from router.formats.codec import dumps, event_object, wrap_signature
from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind
from router.formats.gemini.parts import call_id_factory
from router.formats.gemini.response import (
    FINISH_IN,
    FINISH_OUT,
    HTTP_FOR_KIND,
    decode_gemini_usage,
    encode_gemini_usage,
    error_kind,
    gemini_error_body,
)
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
from router.formats.stream_blocks import BlockCursor
from router.jsonio import loads

FMT = Format.GEMINI


class GeminiStreamDecoder(BlockCursor):
    """GenerateContentResponse chunks -> IR stream events. Gemini sends each function
    call whole, so a call is one block with one argument delta."""

    __slots__ = ("_ctx", "_done", "_has_calls", "_make_id", "_started", "_usage")

    def __init__(self, ctx: TranslationContext) -> None:
        super().__init__()
        self._ctx = ctx
        self._make_id = call_id_factory(ctx)
        self._started = False
        self._done = False
        self._has_calls = False
        self._usage = Usage()

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._done:
            return []
        chunk = event_object(event.data)
        if chunk is None:
            return []
        if "error" in chunk:
            return self._error(chunk["error"])
        out: list[StreamEvent] = []
        if not self._started:
            out.append(self._start(chunk))
        if chunk.get("usageMetadata"):
            self._usage = decode_gemini_usage(chunk["usageMetadata"])
        candidates = chunk.get("candidates")
        if candidates:
            cand = candidates[0]
            for raw in (cand.get("content") or {}).get("parts") or ():
                self._part(raw, out)
            if cand.get("finishReason"):
                self._finish_reason(cand["finishReason"], out)
        elif (chunk.get("promptFeedback") or {}).get("blockReason"):
            self._end(StopReason.CONTENT_FILTER, out)
        return out

    def close(self) -> list[StreamEvent]:
        if self._done:
            return []
        self._done = True
        return [
            StreamError(502, "upstream stream ended without a finishReason", ErrorKind.API_ERROR)
        ]

    def _start(self, chunk: dict) -> MessageStart:
        self._started = True
        return MessageStart(chunk.get("responseId") or "", chunk.get("modelVersion") or "")

    def _finish_reason(self, finish: Any, out: list[StreamEvent]) -> None:
        stop = FINISH_IN.get(finish, StopReason.END_TURN)
        if stop is StopReason.END_TURN and self._has_calls:
            stop = StopReason.TOOL_USE
        self._end(stop, out)

    def _end(self, stop: StopReason, out: list[StreamEvent]) -> None:
        self._done = True
        self._close(out)
        out.append(Finish(stop, self._usage))

    def _error(self, error: Any) -> list[StreamEvent]:
        self._done = True
        err = error if isinstance(error, dict) else {}
        code = err.get("code")
        status = code if isinstance(code, int) else 502
        message = str(err.get("message") or "upstream error")
        return [StreamError(status, message, error_kind(err.get("status")))]

    def _part(self, raw: dict, out: list[StreamEvent]) -> None:
        sig = raw.get("thoughtSignature")
        if raw.get("thought"):
            self._thought(raw, sig, out)
            return
        if sig:
            index = self._open(out, "reasoning", source=FMT)
            out.append(SignatureDelta(index, sig, FMT))
            self._close(out)
        text = raw.get("text")
        if text:
            if self._kind != "text":
                self._open(out, "text")
            out.append(TextDelta(self._index, text))
            return
        call = raw.get("functionCall")
        if isinstance(call, dict):
            self._call(call, out)

    def _thought(self, raw: dict, sig: Any, out: list[StreamEvent]) -> None:
        if self._kind != "reasoning":
            self._open(out, "reasoning", source=FMT)
        if raw.get("text"):
            out.append(ReasoningDelta(self._index, raw["text"]))
        if sig:
            out.append(SignatureDelta(self._index, sig, FMT))

    def _call(self, call: dict, out: list[StreamEvent]) -> None:
        ctx = self._ctx
        self._has_calls = True
        index = self._open(
            out,
            "tool_call",
            id=ctx.call_id_in(call.get("id") or self._make_id()),
            name=ctx.tool_name_in(call.get("name") or ""),
        )
        out.append(ToolArgsDelta(index, dumps(call.get("args") or {})))
        self._close(out)


class GeminiStreamEncoder:
    """IR stream events -> Gemini chunks, as SSE (`data: {...}`) or, with sse=False, as
    one JSON array streamed element by element (`[` obj `,` obj ... `]`). Function call
    arguments are collected and sent whole when the call's block ends."""

    __slots__ = (
        "_args", "_call", "_kind", "_pending_sig", "_prefix", "_sent", "_source", "_sse", "_tail",
    )  # fmt: skip

    def __init__(self, ctx: TranslationContext, sse: bool = True) -> None:
        self._sse = sse
        self._sent = False
        self._prefix = '{"candidates":[{"content":{"role":"model","parts":['
        self._tail = (
            f']}},"index":0}}],"modelVersion":{dumps(ctx.client_model)},'
            f'"responseId":{dumps(ctx.request_id)}}}'
        )
        self._kind: str | None = None
        self._call: tuple[str, str] = ("", "")
        self._args: list[str] = []
        self._pending_sig: str | None = None
        # The format of the reasoning block being streamed while no signature has come for
        # it; at its end it gets a wrapped empty one (as whole answers do), so the thought
        # text a client sends back is tagged with the format that wants it.
        self._source: Format | None = None

    def _frame(self, payload: str) -> bytes:
        if self._sse:
            return f"data: {payload}\r\n\r\n".encode()
        if self._sent:
            return f",\r\n{payload}".encode()
        self._sent = True
        return f"[{payload}".encode()

    def _part(self, part: dict) -> bytes:
        if self._pending_sig is not None:
            part["thoughtSignature"] = self._pending_sig
            self._pending_sig = None
        return self._frame(self._prefix + dumps(part) + self._tail)

    def encode(self, ev: StreamEvent) -> bytes:
        match ev:
            case TextDelta():
                if self._pending_sig is None:
                    return self._frame(
                        self._prefix + '{"text":' + dumps(ev.text) + "}" + self._tail
                    )
                return self._part({"text": ev.text})
            case ReasoningDelta():
                self._kind = "reasoning_text"
                return self._frame(
                    self._prefix + '{"text":' + dumps(ev.text) + ',"thought":true}' + self._tail
                )
            case ToolArgsDelta():
                self._args.append(ev.partial_json)
                return b""
            case BlockStart():
                self._kind = ev.kind
                if ev.kind == "reasoning" and ev.source not in (None, FMT):
                    self._source = ev.source
                if ev.kind == "tool_call":
                    self._call = (ev.id or "", ev.name or "")
                    self._args = []
                return b""
            case SignatureDelta():
                return self._signature(ev)
            case BlockStop():
                return self._block_stop()
            case Finish():
                return self._finish(ev)
            case StreamError():
                status = HTTP_FOR_KIND.get(ev.kind, ev.status)
                return self._frame(dumps(gemini_error_body(status, ev.message, ev.kind)))
        return b""

    def _signature(self, ev: SignatureDelta) -> bytes:
        """The signature waits for the next part (a function call's signature goes on the
        call, where clients that drop thought parts keep it), never an empty thought."""
        self._pending_sig = wrap_signature(ev.signature, ev.source, FMT)
        self._source = None
        return b""

    def _block_stop(self) -> bytes:
        kind = self._kind
        self._kind = None
        if self._source is not None:
            self._pending_sig = wrap_signature("", self._source, FMT)
            self._source = None
        if kind != "tool_call":
            return b""
        call_id, name = self._call
        text = "".join(self._args)
        args = loads(text) if text else {}
        return self._part({"functionCall": {"id": call_id, "name": name, "args": args}})

    def _finish(self, ev: Finish) -> bytes:
        parts = '{"text":""}'
        if self._pending_sig is not None:
            parts = dumps({"text": "", "thoughtSignature": self._pending_sig})
            self._pending_sig = None
        body = (
            self._prefix
            + parts
            + f']}},"finishReason":"{FINISH_OUT[ev.stop_reason]}","index":0}}],'
            + f'"usageMetadata":{dumps(encode_gemini_usage(ev.usage))},'
            + self._tail[len(']},"index":0}],') :]
        )
        return self._frame(body)

    def finish(self) -> bytes:
        if self._sse:
            return b""
        return b"]" if self._sent else b"[]"
