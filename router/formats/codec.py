"""Codec interface and helpers shared by the four format codecs."""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Protocol

from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind, FormatError
from router.formats.ir import (
    Format,
    ImagePart,
    Message,
    Request,
    Response,
    StreamEvent,
    Tool,
    ToolChoice,
    ToolResultPart,
)
from router.formats.sse import SSEEvent
from router.jsonio import dumps_text, loads


def dumps(obj: Any) -> str:
    """Compact JSON (the per-chunk hot path uses this)."""
    return dumps_text(obj)


class StreamDecoder(Protocol):
    def feed(self, event: SSEEvent) -> list[StreamEvent]: ...

    def close(self) -> list[StreamEvent]: ...


class StreamEncoder(Protocol):
    def encode(self, ev: StreamEvent) -> bytes: ...

    def finish(self) -> bytes: ...


class Codec:
    """One wire format: request/response/stream translation to and from the IR."""

    format: Format

    def decode_request(self, body: dict) -> Request:
        raise NotImplementedError

    def encode_request(self, req: Request, ctx: TranslationContext) -> dict:
        raise NotImplementedError

    def decode_response(self, body: dict, ctx: TranslationContext) -> Response:
        raise NotImplementedError

    def encode_response(self, resp: Response, ctx: TranslationContext) -> dict:
        raise NotImplementedError

    def stream_decoder(self, ctx: TranslationContext) -> StreamDecoder:
        raise NotImplementedError

    def stream_encoder(self, ctx: TranslationContext) -> StreamEncoder:
        raise NotImplementedError

    def encode_error(self, status: int, message: str, kind: ErrorKind) -> dict:
        raise NotImplementedError

    def encode_stream_error(self, status: int, message: str, kind: ErrorKind) -> bytes:
        raise NotImplementedError


# ---- reasoning effort <-> token budget ------------------------------------------------
# effort   budget
# minimal    1024   (Anthropic's minimum thinking budget)
# low        4096
# medium     8192
# high      16384
# xhigh     32768
# A budget maps to the smallest effort whose budget is >= it (above 32768: xhigh);
# budget 0 means reasoning off ("none"); Gemini's -1 (dynamic) maps to "medium".
EFFORT_BUDGET = {"minimal": 1024, "low": 4096, "medium": 8192, "high": 16384, "xhigh": 32768}


def effort_to_budget(effort: str) -> int:
    if effort == "none":
        return 0
    return EFFORT_BUDGET.get(effort, EFFORT_BUDGET["medium"])


def budget_to_effort(budget: int) -> str:
    if budget == 0:
        return "none"
    if budget < 0:
        return "medium"
    for effort, limit in EFFORT_BUDGET.items():
        if budget <= limit:
            return effort
    return "xhigh"


# ---- reasoning signatures across formats ----------------------------------------------
# A signature produced by upstream format X and shown to a client of format Y != X is
# wrapped as "xfmt:<X>:<signature>". When the client sends it back, the decoder unwraps
# it and tags the reasoning with source X, so only an X upstream ever receives it.
_SIG_PREFIX = "xfmt:"
_FORMATS_BY_VALUE = {f.value: f for f in Format}


# Gemini's thoughtSignature is bytes (base64 in JSON; SDKs decode it and send it back
# re-encoded, URL-safe), so a Gemini client gets the wrapped form base64-encoded.
_B64_PREFIX = base64.urlsafe_b64encode(_SIG_PREFIX.encode()).decode()[:6]


def wrap_signature(signature: str | None, source: Format, client: Format) -> str:
    if source is client:
        return signature or ""
    wrapped = f"{_SIG_PREFIX}{source.value}:{signature or ''}"
    if client is Format.GEMINI:
        return base64.urlsafe_b64encode(wrapped.encode()).decode()
    return wrapped


def unwrap_signature(signature: str | None, client: Format) -> tuple[str | None, Format]:
    if signature and client is Format.GEMINI and signature.startswith(_B64_PREFIX):
        signature = _b64_text(signature)
    if signature and signature.startswith(_SIG_PREFIX):
        fmt_name, sep, raw = signature[len(_SIG_PREFIX) :].partition(":")
        fmt = _FORMATS_BY_VALUE.get(fmt_name)
        if sep and fmt is not None:
            return raw or None, fmt
    return signature, client


def _b64_text(data: str) -> str:
    """Base64 (either alphabet, padding optional) to text; the input itself if it is not."""
    try:
        raw = base64.b64decode(data.translate(_URL_SAFE) + "=" * (-len(data) % 4), validate=True)
        return raw.decode()
    except ValueError:
        return data


_URL_SAFE = str.maketrans("-_", "+/")


# ---- input validation helpers --------------------------------------------------------


def event_object(data: str) -> dict | None:
    """A stream event's data as a JSON object; None when it is not one (such an event
    carries nothing a decoder reads)."""
    try:
        value = loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def require(body: dict, key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    value = body.get(key)
    if value is None:
        raise FormatError(f"{where}{key}: field is required")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FormatError(f"{where}{key}: expected {_kind_name(kind)}")
    return value


def optional(body: dict, key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise FormatError(f"{where}{key}: expected {_kind_name(kind)}")
    if not isinstance(value, kind):
        raise FormatError(f"{where}{key}: expected {_kind_name(kind)}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        list: "array",
        dict: "object",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


OPENAI_USER_ID_MAX = 128


def openai_function(tool: Tool, ctx: TranslationContext) -> dict:
    """A tool as both OpenAI APIs declare a function: its name as sent upstream, its
    description when it has one, its parameters (an empty object schema when none)."""
    return {
        "name": ctx.tool_name_out(tool.name),
        **({"description": tool.description} if tool.description is not None else {}),
        "parameters": tool.parameters or {"type": "object", "properties": {}},
    }


def openai_sampling(req: Request, body: dict, max_tokens_key: str) -> None:
    """The generation fields both OpenAI APIs name alike, and the length limit under the
    API's own name (``max_completion_tokens``, ``max_output_tokens``)."""
    if req.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = req.parallel_tool_calls
    if req.max_tokens is not None:
        body[max_tokens_key] = req.max_tokens
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.top_p is not None:
        body["top_p"] = req.top_p


def openai_user_id(user: str) -> str:
    """An end-user id OpenAI accepts (at most 128 characters): a longer one, such as the
    JSON metadata.user_id Claude Code sends, becomes its SHA-256 hex digest (stable, so
    OpenAI still sees one user)."""
    if len(user) <= OPENAI_USER_ID_MAX:
        return user
    return hashlib.sha256(user.encode()).hexdigest()


def image_at(url: str, detail: str | None) -> ImagePart:
    """An image an OpenAI request gives by URL; a base64 data URL becomes inline data."""
    inline = parse_data_url(url)
    if inline:
        return ImagePart(media_type=inline[0], data=inline[1], detail=detail)
    return ImagePart(url=url, detail=detail)


def openai_choice_mode(choice: str) -> ToolChoice:
    """An OpenAI ``tool_choice`` string: ``auto``, ``none`` or ``required``."""
    if choice not in ("auto", "none", "required"):
        raise FormatError(f"tool_choice: unknown value {choice!r}")
    return ToolChoice(choice)


def parse_data_url(url: str) -> tuple[str, str] | None:
    """(media_type, base64 data) for a base64 data URL, else None."""
    if not url.startswith("data:"):
        return None
    header, sep, data = url[5:].partition(",")
    if not sep or not header.endswith(";base64"):
        return None
    return header[: -len(";base64")] or "application/octet-stream", data


def parse_arguments(arguments: str, where: str) -> dict:
    """Tool-call argument text to an object (targets that want objects need this)."""
    if not arguments:
        return {}
    try:
        value = loads(arguments)
    except ValueError as exc:
        raise FormatError(f"{where}: tool call arguments are not valid JSON") from exc
    if not isinstance(value, dict):
        raise FormatError(f"{where}: tool call arguments must be a JSON object")
    return value


def append_tool_result(messages: list[Message], result: ToolResultPart) -> None:
    """Add a tool result to the conversation: results that follow one another share one
    user turn (the IR keeps a batch of parallel results together)."""
    last = messages[-1] if messages else None
    if last and last.role == "user" and all(isinstance(p, ToolResultPart) for p in last.parts):
        last.parts.append(result)
    else:
        messages.append(Message("user", [result]))
