"""OpenAI Responses streams: event decoder (upstream side) and encoder (client side)."""

from __future__ import annotations

from collections.abc import Callable

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
    StreamError,
    StreamEvent,
    TextDelta,
    ToolArgsDelta,
)
from router.formats.openai_chat import openai_error_body
from router.formats.openai_responses.response import (
    base_response,
    client_tool_name,
    custom_call_item,
    decode_responses_usage,
    finish_fields,
    freeform_input,
    function_item,
    message_item,
    reasoning_item,
    stop_reason,
)
from router.formats.sse import SSEEvent
from router.formats.stream_blocks import BlockCursor

FMT = Format.OPENAI_RESPONSES


class ResponsesStreamDecoder(BlockCursor):
    """Responses API SSE events -> IR stream events. Each event type has one handler
    (see _HANDLERS below); events of other types carry nothing the IR needs. A text
    delta inside an open text block, most of a stream, skips the lookup."""

    __slots__ = ("_args_seen", "_ctx", "_done", "_has_calls", "_summaries")

    def __init__(self, ctx: TranslationContext) -> None:
        super().__init__()
        self._ctx = ctx
        self._done = False
        self._args_seen = False
        self._has_calls = False
        self._summaries = 0

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._done:
            return []
        data = event_object(event.data)
        if data is None:
            return []
        etype = data.get("type") or event.event
        out: list[StreamEvent] = []
        if etype == "response.output_text.delta" and self._kind == "text":
            out.append(TextDelta(self._index, data.get("delta") or ""))
            return out
        handler = _HANDLERS.get(etype) if isinstance(etype, str) else None
        if handler is not None:
            handler(self, data, out)
        return out

    def close(self) -> list[StreamEvent]:
        if self._done:
            return []
        self._done = True
        return [
            StreamError(502, "upstream stream ended before response.completed", ErrorKind.API_ERROR)
        ]

    def _text_delta(self, data: dict, out: list[StreamEvent]) -> None:
        if self._kind != "text":
            self._open(out, "text")
        out.append(TextDelta(self._index, data.get("delta") or ""))

    def _args_delta(self, data: dict, out: list[StreamEvent]) -> None:
        if self._kind == "tool_call":
            self._args_seen = True
            out.append(ToolArgsDelta(self._index, data.get("delta") or ""))

    def _reasoning_delta(self, data: dict, out: list[StreamEvent]) -> None:
        if self._kind != "reasoning":
            self._open(out, "reasoning", source=FMT)
        out.append(ReasoningDelta(self._index, data.get("delta") or ""))

    def _summary_part(self, data: dict, out: list[StreamEvent]) -> None:
        """Summary parts of one reasoning item are separated by a blank line."""
        if self._kind == "reasoning" and self._summaries:
            out.append(ReasoningDelta(self._index, "\n\n"))
        self._summaries += 1

    def _item_added(self, data: dict, out: list[StreamEvent]) -> None:
        item = data.get("item") or {}
        itype = item.get("type")
        if itype == "function_call":
            ctx = self._ctx
            self._has_calls = True
            self._args_seen = False
            call_id = ctx.call_id_in(item.get("call_id") or "")
            self._open(out, "tool_call", id=call_id, name=ctx.tool_name_in(item.get("name") or ""))
        elif itype == "reasoning":
            self._summaries = 0
            self._open(out, "reasoning", source=FMT)

    def _content_part(self, data: dict, out: list[StreamEvent]) -> None:
        if (data.get("part") or {}).get("type") in ("output_text", "refusal"):
            self._open(out, "text")

    def _item_done(self, data: dict, out: list[StreamEvent]) -> None:
        """Arguments sent only whole (no deltas) and the reasoning's encrypted content
        arrive with the finished item."""
        item = data.get("item") or {}
        itype = item.get("type")
        if itype == "function_call" and self._kind == "tool_call" and not self._args_seen:
            if item.get("arguments"):
                out.append(ToolArgsDelta(self._index, item["arguments"]))
        elif itype == "reasoning" and item.get("encrypted_content"):
            if self._kind != "reasoning":
                self._open(out, "reasoning", source=FMT)
            out.append(SignatureDelta(self._index, item["encrypted_content"], FMT))
        self._close(out)

    def _created(self, data: dict, out: list[StreamEvent]) -> None:
        resp = data.get("response") or {}
        out.append(MessageStart(resp.get("id") or "", resp.get("model") or ""))

    def _completed(self, data: dict, out: list[StreamEvent]) -> None:
        self._done = True
        self._close(out)
        resp = data.get("response") or {}
        stop = stop_reason(resp.get("status"), resp.get("incomplete_details"), self._has_calls)
        out.append(Finish(stop, decode_responses_usage(resp.get("usage"))))

    def _failed(self, data: dict, out: list[StreamEvent]) -> None:
        self._done = True
        err = data.get("error") or (data.get("response") or {}).get("error") or data
        message = str(err.get("message") or "upstream response failed")
        out.append(StreamError(502, message, ErrorKind.API_ERROR))


_Handler = Callable[[ResponsesStreamDecoder, dict, list[StreamEvent]], None]
_HANDLERS: dict[str, _Handler] = {
    "response.output_text.delta": ResponsesStreamDecoder._text_delta,
    "response.refusal.delta": ResponsesStreamDecoder._text_delta,
    "response.function_call_arguments.delta": ResponsesStreamDecoder._args_delta,
    "response.reasoning_summary_text.delta": ResponsesStreamDecoder._reasoning_delta,
    "response.reasoning_text.delta": ResponsesStreamDecoder._reasoning_delta,
    "response.reasoning_summary_part.added": ResponsesStreamDecoder._summary_part,
    "response.output_item.added": ResponsesStreamDecoder._item_added,
    "response.content_part.added": ResponsesStreamDecoder._content_part,
    "response.output_item.done": ResponsesStreamDecoder._item_done,
    "response.created": ResponsesStreamDecoder._created,
    "response.completed": ResponsesStreamDecoder._completed,
    "response.incomplete": ResponsesStreamDecoder._completed,
    "response.failed": ResponsesStreamDecoder._failed,
    "error": ResponsesStreamDecoder._failed,
}


class ResponsesStreamEncoder:
    """IR stream events -> Responses API SSE bytes (every event has a sequence_number)."""

    __slots__ = (
        "_ctx",
        "_errored",
        "_item_id",
        "_kind",
        "_output",
        "_seq",
        "_signature",
        "_text",
        "_tool",
    )

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._seq = 0
        self._output: list[dict] = []
        self._kind: str | None = None
        self._item_id = ""
        self._text: list[str] = []
        self._tool: tuple[str, str, str | None] = ("", "", None)
        self._signature: str | None = None
        self._errored = False

    def _emit(self, etype: str, body: str) -> bytes:
        seq = self._seq
        self._seq += 1
        return (
            f'event: {etype}\ndata: {{"type":"{etype}","sequence_number":{seq},{body}}}\n\n'
        ).encode()

    def encode(self, ev: StreamEvent) -> bytes:
        match ev:
            case TextDelta():
                self._text.append(ev.text)
                return self._emit(
                    "response.output_text.delta",
                    f'"item_id":"{self._item_id}","output_index":{len(self._output)},'
                    f'"content_index":0,"delta":{dumps(ev.text)},"logprobs":[]',
                )
            case ToolArgsDelta():
                self._text.append(ev.partial_json)
                if self._kind == "custom":
                    return b""
                return self._emit(
                    "response.function_call_arguments.delta",
                    f'"item_id":"{self._item_id}","output_index":{len(self._output)},'
                    f'"delta":{dumps(ev.partial_json)}',
                )
            case ReasoningDelta():
                self._text.append(ev.text)
                return self._emit(
                    "response.reasoning_summary_text.delta",
                    f'"item_id":"{self._item_id}","output_index":{len(self._output)},'
                    f'"summary_index":0,"delta":{dumps(ev.text)}',
                )
            case BlockStart():
                return self._start(ev)
            case BlockStop():
                return self._stop()
            case SignatureDelta():
                self._signature = wrap_signature(ev.signature, ev.source, FMT)
                return b""
            case MessageStart():
                resp = dumps(base_response(self._ctx, "in_progress"))
                return self._emit("response.created", f'"response":{resp}') + self._emit(
                    "response.in_progress", f'"response":{resp}'
                )
            case Finish():
                return self._finish(ev)
            case StreamError():
                return self.error(ev.message, ev.kind)
        return b""

    def _finish(self, ev: Finish) -> bytes:
        resp = base_response(self._ctx, "completed")
        resp["output"] = self._output
        finish_fields(resp, ev.stop_reason, ev.usage)
        name = "response.completed" if resp["status"] == "completed" else "response.incomplete"
        return self._emit(name, f'"response":{dumps(resp)}')

    def error(self, message: str, kind: ErrorKind) -> bytes:
        """The `error` and `response.failed` events that end a failed stream."""
        self._errored = True
        err = openai_error_body(message, kind)["error"]
        resp = base_response(self._ctx, "failed")
        resp["output"] = self._output
        resp["error"] = {"code": err["code"], "message": message}
        return self._emit(
            "error", f'"code":{dumps(err["code"])},"message":{dumps(message)},"param":null'
        ) + self._emit("response.failed", f'"response":{dumps(resp)}')

    def _added(self, item: dict) -> bytes:
        return self._emit(
            "response.output_item.added",
            f'"output_index":{len(self._output)},"item":{dumps(item)}',
        )

    def _start(self, ev: BlockStart) -> bytes:
        self._kind = ev.kind
        self._text = []
        if ev.kind == "text":
            return self._start_message()
        if ev.kind == "tool_call":
            return self._start_call(ev)
        return self._start_reasoning(ev)

    def _start_message(self) -> bytes:
        n = len(self._output)
        self._item_id = f"msg_{self._ctx.request_id}_{n}"
        item = {
            "id": self._item_id,
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        part = '{"type":"output_text","text":"","annotations":[]}'
        return self._added(item) + self._emit(
            "response.content_part.added",
            f'"item_id":"{self._item_id}","output_index":{n},"content_index":0,"part":{part}',
        )

    def _start_call(self, ev: BlockStart) -> bytes:
        """A function call; a call of a custom tool becomes a custom_tool_call item, whose
        raw input is sent whole when the call ends (the upstream streams JSON)."""
        call_id = ev.id or ""
        name, namespace = client_tool_name(self._ctx, ev.name or "")
        self._tool = (call_id, name, namespace)
        if (ev.name or "") in self._ctx.freeform_tools:
            self._kind = "custom"
            self._item_id = f"ctc_{self._ctx.request_id}_{len(self._output)}"
            item = custom_call_item(self._item_id, call_id, name, "", "in_progress", namespace)
            return self._added(item)
        self._item_id = f"fc_{self._ctx.request_id}_{len(self._output)}"
        item = function_item(self._item_id, call_id, name, "", "in_progress", namespace)
        return self._added(item)

    def _start_reasoning(self, ev: BlockStart) -> bytes:
        n = len(self._output)
        self._item_id = f"rs_{self._ctx.request_id}_{n}"
        self._signature = None
        if ev.source is not None and ev.source is not FMT:
            self._signature = wrap_signature("", ev.source, FMT)
        part = '{"type":"summary_text","text":""}'
        return self._added({"id": self._item_id, "type": "reasoning", "summary": []}) + self._emit(
            "response.reasoning_summary_part.added",
            f'"item_id":"{self._item_id}","output_index":{n},"summary_index":0,"part":{part}',
        )

    def _stop(self) -> bytes:
        n = len(self._output)
        iid = self._item_id
        kind = self._kind
        self._kind = None
        text = "".join(self._text)
        head = f'"item_id":"{iid}","output_index":{n}'
        if kind == "text":
            item = message_item(iid, text)
            part = dumps(item["content"][0])
            out = self._emit(
                "response.output_text.done",
                f'{head},"content_index":0,"text":{dumps(text)},"logprobs":[]',
            ) + self._emit("response.content_part.done", f'{head},"content_index":0,"part":{part}')
        elif kind == "tool_call":
            call_id, name, namespace = self._tool
            item = function_item(iid, call_id, name, text, "completed", namespace)
            out = self._emit(
                "response.function_call_arguments.done",
                f'{head},"name":{dumps(name)},"arguments":{dumps(text)}',
            )
        elif kind == "custom":
            item, out = self._stop_custom(head, text)
        else:
            item = reasoning_item(iid, text, self._signature)
            summary = dumps({"type": "summary_text", "text": text})
            out = self._emit(
                "response.reasoning_summary_text.done",
                f'{head},"summary_index":0,"text":{dumps(text)}',
            ) + self._emit(
                "response.reasoning_summary_part.done", f'{head},"summary_index":0,"part":{summary}'
            )
        self._output.append(item)
        return out + self._emit(
            "response.output_item.done", f'"output_index":{n},"item":{dumps(item)}'
        )

    def _stop_custom(self, head: str, arguments: str) -> tuple[dict, bytes]:
        call_id, name, namespace = self._tool
        raw_input = freeform_input(arguments)
        item = custom_call_item(self._item_id, call_id, name, raw_input, "completed", namespace)
        events = self._emit(
            "response.custom_tool_call_input.delta", f'{head},"delta":{dumps(raw_input)}'
        ) + self._emit("response.custom_tool_call_input.done", f'{head},"input":{dumps(raw_input)}')
        return item, events

    def finish(self) -> bytes:
        return b""
