"""What a fake upstream does with the next request(s).

Behaviours are plain data. Each API module (openai, anthropic, gemini) renders them in its
own wire format, so one test vocabulary works against every fake:

    fake.script.push(Stream(chunks=5, interval=0.01))
    fake.script.push(Status(429, retry_after=2), times=3)
    fake.script.always(Hang())

The fault behaviours (BadEvent, Truncate, Trickle, Huge, Drop(reset=True), Garbage with
framed=False) play the upstream faults of tests/faults/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """A tool/function call the fake model makes. `arguments` is serialised as JSON.

    `custom_input` set makes it a call of a Responses `custom` (free-form) tool with that
    raw input, which only the Responses APIs have (a `custom_tool_call` item; `arguments`
    unused); `namespace` is the namespace group the called tool was declared in."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    custom_input: str | None = None
    namespace: str | None = None


@dataclass(frozen=True)
class Usage:
    """Token counts to report instead of the ones the fake computes from the input."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class Reply:
    """A successful answer, streamed if the client asked for a stream.

    text=None means the default echo ("echo: <last user text>"). When streaming, the text
    is split into `chunks` deltas (one per word when chunks is None), `interval` seconds
    apart. When chunks is set and text is None, the text is "w0 w1 ... w{chunks-1}".
    """

    text: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    reasoning: str | None = None
    usage: Usage | None = None
    stop_reason: str | None = None
    chunks: int | None = None
    interval: float = 0.0


@dataclass(frozen=True)
class Stream(Reply):
    """A Reply streamed as `chunks` content deltas (5 by default)."""

    chunks: int | None = 5


@dataclass(frozen=True)
class Status:
    """An HTTP error in the API's own error shape (429 adds Retry-After when given)."""

    status: int
    message: str | None = None
    error_type: str | None = None
    retry_after: float | None = None
    body: Any = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Hang:
    """Accept the request and never answer until the client goes away.

    after_headers=True sends the 200 status line and headers first, then nothing more.
    """

    after_headers: bool = False


@dataclass(frozen=True)
class Delay:
    """Wait `seconds` before sending anything, then behave as `then`."""

    seconds: float
    then: Behaviour = field(default_factory=Reply)


@dataclass(frozen=True)
class Stall:
    """Stream `after_chunks` content deltas of `reply`, then go silent forever."""

    after_chunks: int = 1
    reply: Reply = field(default_factory=Stream)


@dataclass(frozen=True)
class Drop:
    """Abruptly close the TCP connection after `after_chunks` content deltas.

    after_chunks=0 closes before any byte is sent. For a non-streaming request with
    after_chunks>0 the headers and part of the body are sent first. reset=True makes the
    close a TCP reset (RST) instead of a FIN.
    """

    after_chunks: int = 0
    reply: Reply = field(default_factory=Stream)
    reset: bool = False


@dataclass(frozen=True)
class MidStreamError:
    """Stream `after_chunks` content deltas, then an in-band error event, then end.

    A non-streaming request gets the error as a plain HTTP error with `status`.
    """

    after_chunks: int = 1
    status: int = 529
    error_type: str | None = None
    message: str = "Overloaded"
    reply: Reply = field(default_factory=Stream)


@dataclass(frozen=True)
class Garbage:
    """Answer 200 with a body that is not valid JSON (or an SSE stream of invalid data).

    framed=False sends `body` as it is even to a stream request (no `data:` framing).
    """

    body: str = '{"this is": not json'
    framed: bool = True


@dataclass(frozen=True)
class BadEvent:
    """Stream `after_chunks` content deltas, then one event of an unexpected shape (`data`,
    JSON-encoded unless a string, under SSE `event` when given), then the rest as usual.

    A non-streaming request gets `data` as its whole 200 body."""

    data: Any
    event: str | None = None
    after_chunks: int = 1
    reply: Reply = field(default_factory=Stream)


@dataclass(frozen=True)
class Truncate:
    """Stream `after_chunks` content deltas, then end the response cleanly (no final
    events: no [DONE], message_stop, response.completed or finishReason)."""

    after_chunks: int = 1
    reply: Reply = field(default_factory=Stream)


@dataclass(frozen=True)
class Trickle:
    """Send the whole answer (stream or body) one byte every `interval` seconds."""

    interval: float = 1.0
    reply: Reply = field(default_factory=Reply)


@dataclass(frozen=True)
class Huge:
    """A well-formed 200 answer whose text is `megabytes` MiB of "a", generated lazily
    (never held whole by the fake) and written in 1 MiB pieces."""

    megabytes: float = 64


Behaviour = (
    Reply
    | Status
    | Hang
    | Delay
    | Stall
    | Drop
    | MidStreamError
    | Garbage
    | BadEvent
    | Truncate
    | Trickle
    | Huge
)
