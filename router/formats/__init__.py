"""Format translation layer: every client format to every upstream format.

Design
------
One internal representation (IR, `router.formats.ir`) and one codec per wire format
(OpenAI Chat Completions, OpenAI Responses, Anthropic Messages, Gemini generateContent):
four codecs instead of sixteen translators. A request travels

    client body --codec(client).decode_request--> IR Request
               --codec(upstream).encode_request(req, ctx)--> upstream body

and the answer comes back

    upstream body --codec(upstream).decode_response(body, ctx)--> IR Response
                  --codec(client).encode_response(resp, ctx)--> client body

Streams go through the same pair: `stream_decoder(ctx).feed(SSEEvent)` turns each
upstream SSE event into IR stream events at once; `stream_encoder(ctx).encode(event)`
turns each IR event into client bytes at once; `finish()` writes the trailer (`[DONE]`,
the closing `]` of Gemini's JSON-array mode). Nothing buffers a whole stream; the only
accumulation is what a target format itself needs (Gemini wants whole functionCall
arguments, Responses repeats the full text in its *.done events).

IR request (`Request`): model, `system` (list of text blocks), `messages` (role "user"
or "assistant", each a list of parts), tools (name, description, JSON Schema
parameters), tool_choice (auto | none | required | tool+name), parallel_tool_calls,
max_tokens, temperature, top_p, top_k, stop, stream, reasoning (effort and/or budget,
include_thoughts), response_format (json_object | json_schema), seed, presence and
frequency penalties, logit_bias, user (end-user id), verbosity, previous_response_id,
origin (the client format, for error messages), untranslatable (client fields no
other format can express; encoders reject them, or drop the unknown ones) and hints
(client fields dropped on purpose, reported by the encoder).
Parts: TextPart, ImagePart (base64 data+media_type, or url; file_ref for Gemini
fileData; OpenAI's detail hint), ToolCallPart (id, name, raw JSON argument text),
ToolResultPart (call_id, text/image content, is_error, optional tool name),
ReasoningPart (text, signature, source format, redacted flag, Responses item id).
Tool results live in user messages.

IR response (`Response`): id, model, parts (text, reasoning, tool calls), stop_reason
(end_turn, max_tokens, stop_sequence, tool_use, content_filter, error), Usage
(input_tokens INCLUDING cached ones, output_tokens INCLUDING reasoning ones,
cache_read_tokens, cache_creation_tokens, reasoning_tokens).

IR stream events: MessageStart, BlockStart(index, kind text|reasoning|tool_call, id,
name), TextDelta, ReasoningDelta, SignatureDelta, ToolArgsDelta, BlockStop, then
exactly one Finish(stop_reason, usage) or StreamError(status, message, kind). Blocks are
strictly sequential and numbered from 0. Decoders turn a stream that ends without its
terminal event into a StreamError.

TranslationContext (one per client request) carries client_model (echoed in every
response), request_id and created (response / item / call ids), tool_names (names
longer than 64 characters or with characters some target rejects are shortened as
prefix + "_" + sha256 digest, and restored exactly when the answer is decoded),
call_ids (call ids outside ^[a-zA-Z0-9_-]+$ are rewritten and mapped back),
default_max_tokens (Anthropic requires max_tokens; 8192 unless the router sets it) and
sse (Gemini clients: False selects the JSON-array stream).

Reasoning and signatures: a signature is only sent to an upstream of the format family
that produced it; reasoning from another family is dropped from upstream requests. When
a client of format Y is shown a signature from upstream format X, it is wrapped as
"xfmt:X:<sig>" so that, when the client sends the conversation back, the reasoning is
tagged with X again and reaches only an X upstream. Gemini's signature on a function
call becomes a signature-only ReasoningPart in front of the call. Effort and budget
map through the table in `router.formats.codec` (minimal 1024, low 4096, medium 8192,
high 16384, xhigh 32768 tokens; 0 = off).

Choices where formats differ:
- Every top-level client field is translated, dropped (hints: each codec's
  DROPPED_HINTS; unknown fields; sampling hints the target lacks), or rejected with
  UnsupportedFeature naming the client's field and the target format
  (`router.formats.features`). Every drop is named in TranslationContext.dropped;
  TranslationContext.strict turns the drops of unknown fields and sampling hints into
  400s. The per-field table is in docs/ARCHITECTURE.md. seed and the penalties reach
  Chat and Gemini, top_k Anthropic and Gemini, logit_bias Chat, previous_response_id
  only a Responses upstream; the end-user id becomes Chat `user`, Responses
  `safety_identifier` and Anthropic `metadata.user_id`.
- n > 1, candidateCount > 1 and logprobs are rejected for every target: the IR
  carries one choice and no log probabilities.
- json_schema output to Anthropic uses its native structured outputs
  (`output_config.format`); json_object to Anthropic adds a system instruction asking
  for a JSON object. A forced tool with thinking on cannot go to Anthropic.
- Stop sequences to OpenAI Responses are UnsupportedFeature (the API has none).
- Parallel tool calls whose argument deltas interleave in an OpenAI Chat stream are
  serialised: the first streams live, the others are buffered until their turn.
- Image URLs to Gemini are UnsupportedFeature (never fetched); Gemini file references
  cannot go to other formats; images inside tool results cannot go to OpenAI Chat.
- Anthropic with thinking enabled drops temperature/top_k (and top_p < 0.95), and
  raises max_tokens above the thinking budget when needed.
- Gemini has no call ids: decoders synthesize them (call_<request_id>_<n>) and tool
  results are matched to calls by id, else by name in call order.
- System messages anywhere in an OpenAI Chat or Anthropic conversation (Claude Code
  sends them mid-conversation) are hoisted into `system`; OpenAI "developer" messages
  become system text.
- Error bodies per format come from `encode_error`; mid-stream errors from
  `encode_stream_error` (or a StreamError event given to the stream encoder, which keeps
  Responses sequence numbers consistent).
"""

from __future__ import annotations

from router.formats.anthropic import AnthropicCodec
from router.formats.codec import Codec, StreamDecoder, StreamEncoder
from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind, FormatError, UnsupportedFeature, kind_for_status
from router.formats.gemini import GeminiCodec
from router.formats.ir import Format, Request, Response, StreamEvent, Usage, usage_of
from router.formats.openai_chat import OpenAIChatCodec
from router.formats.openai_responses import OpenAIResponsesCodec
from router.formats.sse import SSEEvent, SSEParser, encode_sse
from router.formats.tokens import estimate_tokens

_CODECS: dict[Format, Codec] = {
    Format.OPENAI_CHAT: OpenAIChatCodec(),
    Format.OPENAI_RESPONSES: OpenAIResponsesCodec(),
    Format.ANTHROPIC: AnthropicCodec(),
    Format.GEMINI: GeminiCodec(),
}


def get_codec(fmt: Format) -> Codec:
    """The (stateless, shared) codec for a format (a member or its value: a StrEnum
    member hashes as its value, so only an unknown name pays for the ValueError)."""
    codec = _CODECS.get(fmt)
    return codec if codec is not None else _CODECS[Format(fmt)]


__all__ = [
    "Codec",
    "ErrorKind",
    "Format",
    "FormatError",
    "Request",
    "Response",
    "SSEEvent",
    "SSEParser",
    "StreamDecoder",
    "StreamEncoder",
    "StreamEvent",
    "TranslationContext",
    "UnsupportedFeature",
    "Usage",
    "encode_sse",
    "estimate_tokens",
    "get_codec",
    "kind_for_status",
    "usage_of",
]
