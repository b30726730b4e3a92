"""Internal representation (IR) shared by every codec.

Every client format is decoded into these dataclasses and every upstream format is
encoded from them, so each format needs one codec instead of one translator per pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from router.formats.errors import ErrorKind


class Format(StrEnum):
    """The four wire formats cliproxy speaks."""

    OPENAI_CHAT = "openai-chat"
    OPENAI_RESPONSES = "openai-responses"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


class StopReason(StrEnum):
    END_TURN = "end_turn"
    MAX_TOKENS = "max_tokens"
    STOP_SEQUENCE = "stop_sequence"
    TOOL_USE = "tool_use"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"


@dataclass(slots=True)
class TextPart:
    text: str


@dataclass(slots=True)
class ImagePart:
    """An image given inline (base64 `data` + `media_type`) or by `url`.

    `file_ref` marks a provider file reference (Gemini fileData) rather than a web URL.
    `detail` is OpenAI's resolution hint ("low" | "high" | "auto"), kept for OpenAI targets.
    """

    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    file_ref: bool = False
    detail: str | None = None


@dataclass(slots=True)
class ToolCallPart:
    """A call the assistant made. `arguments` is the raw JSON text of the argument object."""

    id: str
    name: str
    arguments: str


@dataclass(slots=True)
class ToolResultPart:
    """The result of a tool call, sent by the client in a user turn."""

    call_id: str
    content: list[TextPart | ImagePart]
    is_error: bool = False
    name: str | None = None


@dataclass(slots=True)
class ReasoningPart:
    """Model reasoning: visible text and/or an opaque signature.

    `source` is the format family that produced `signature` (and the text); an upstream
    only ever receives reasoning whose source is its own format. `redacted` marks
    Anthropic redacted_thinking, whose opaque payload is kept in `signature`.
    `item_id` keeps a Responses reasoning item id.
    """

    text: str
    signature: str | None
    source: Format
    redacted: bool = False
    item_id: str | None = None


Part = TextPart | ImagePart | ToolCallPart | ToolResultPart | ReasoningPart


@dataclass(slots=True)
class Message:
    """One conversation turn. role is "user" or "assistant"; tool results live in user turns."""

    role: str
    parts: list[Part]


@dataclass(slots=True)
class Tool:
    """A function tool. `freeform` marks a Responses `custom` tool (free-form text input,
    e.g. Codex's apply_patch): other targets get a function with one string argument,
    `input`, and its calls go back to the client as custom_tool_call items.
    `namespaced` keeps (namespace, name) of a tool from a Codex `namespace` group; `name`
    is then the two joined, the name every other target sees."""

    name: str
    description: str | None
    parameters: dict
    freeform: bool = False
    namespaced: tuple[str, str] | None = None


@dataclass(slots=True)
class ToolChoice:
    """mode: "auto" | "none" | "required" | "tool" (then `name` is the forced tool)."""

    mode: str
    name: str | None = None


@dataclass(slots=True)
class Reasoning:
    """Reasoning request. effort: minimal|low|medium|high|xhigh; budget: tokens (0 = off)."""

    effort: str | None = None
    budget: int | None = None
    include_thoughts: bool | None = None


@dataclass(slots=True)
class ResponseFormat:
    """type: "json_object" | "json_schema" (plain text is the absence of a ResponseFormat)."""

    type: str
    schema: dict | None = None
    name: str | None = None
    strict: bool | None = None


@dataclass(slots=True)
class Request:
    """A generation request in no particular format.

    Fields a target cannot express are checked by `router.formats.features.check_target`
    when the request is encoded: `user` (end-user id) and `verbosity` are hints a target
    may drop; seed, penalties, logit_bias, top_k and previous_response_id are not.
    `origin` is the client format, so an error can name the client's own field.
    `untranslatable` maps a client field to what it asks for when no other format can
    express it at all (n > 1, logprobs, stored prompts ...): every target rejects it,
    naming itself; only the passthrough path (same format) can serve such a request.
    `hints` names the client fields the decoder read and dropped on purpose (each
    codec's DROPPED_HINTS); encoders report them in TranslationContext.dropped.
    `system` is the instruction before the conversation; `mid_system` holds the system
    and developer messages a client put inside it, as (number of messages before it,
    text): kept in place where the target can hold them (OpenAI Chat, Responses),
    joined to the system instruction elsewhere (`all_system`).
    `web_search` names the client's hosted web search tool (`tools[i]`), which each
    target that has one gets as its own (router/formats/web_search.py).
    """

    model: str
    messages: list[Message]
    system: list[str] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    reasoning: Reasoning | None = None
    response_format: ResponseFormat | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    verbosity: str | None = None
    previous_response_id: str | None = None
    web_search: str | None = None
    mid_system: list[tuple[int, str]] = field(default_factory=list)
    origin: Format | None = None
    untranslatable: dict[str, str] = field(default_factory=dict)
    hints: list[str] = field(default_factory=list)


def all_system(req: Request) -> list[str]:
    """Every system text, in order, for targets with one system instruction."""
    if not req.mid_system:
        return req.system
    return [*req.system, *(text for _, text in req.mid_system)]


def mid_system_at(req: Request) -> dict[int, list[str]]:
    """The system texts inside the conversation by the index of the message they precede
    (len(messages) for those after the last)."""
    at: dict[int, list[str]] = {}
    for index, text in req.mid_system:
        at.setdefault(index, []).append(text)
    return at


def add_system(
    req_system: list[str], mid: list[tuple[int, str]], texts: list[str], messages: list[Message]
) -> None:
    """A client's system text: before any message it is the system instruction, after
    one it stays where it is."""
    if messages:
        mid.extend((len(messages), text) for text in texts)
    else:
        req_system.extend(texts)


@dataclass(slots=True)
class Usage:
    """Token counts. input_tokens is the whole prompt INCLUDING cached tokens;
    output_tokens includes reasoning tokens."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(slots=True)
class Response:
    id: str
    model: str
    parts: list[Part]
    stop_reason: StopReason = StopReason.END_TURN
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=Usage)


def usage_of(resp: Response) -> Usage:
    """Usage of a decoded response, for logging."""
    return resp.usage


# ---- stream events -------------------------------------------------------------------
# Contract: one MessageStart first; content blocks are strictly sequential
# (BlockStart(i) ... deltas ... BlockStop(i) before BlockStart(i+1), i counting from 0);
# the stream ends with exactly one Finish or one StreamError.


@dataclass(slots=True)
class MessageStart:
    id: str
    model: str
    usage: Usage | None = None


@dataclass(slots=True)
class BlockStart:
    """kind: "text" | "reasoning" | "tool_call". Tool calls carry id and name here."""

    index: int
    kind: str
    id: str | None = None
    name: str | None = None
    redacted: bool = False
    source: Format | None = None


@dataclass(slots=True)
class TextDelta:
    index: int
    text: str


@dataclass(slots=True)
class ReasoningDelta:
    index: int
    text: str


@dataclass(slots=True)
class SignatureDelta:
    index: int
    signature: str
    source: Format


@dataclass(slots=True)
class ToolArgsDelta:
    index: int
    partial_json: str


@dataclass(slots=True)
class BlockStop:
    index: int


@dataclass(slots=True)
class Finish:
    stop_reason: StopReason
    usage: Usage
    stop_sequence: str | None = None


@dataclass(slots=True)
class StreamError:
    status: int
    message: str
    kind: ErrorKind


StreamEvent = (
    MessageStart
    | BlockStart
    | TextDelta
    | ReasoningDelta
    | SignatureDelta
    | ToolArgsDelta
    | BlockStop
    | Finish
    | StreamError
)
