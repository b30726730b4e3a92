"""Anthropic Messages codec.

policy.py          which request fields are translated, dropped as hints or rejected
request_decode.py  client request -> IR (and the content block decoder answers reuse)
request_encode.py  IR -> upstream request (thinking budget, tool choice, sampling rules)
response.py        whole answers both ways, usage, stop reasons, error bodies
stream.py          event stream decoder (upstream side) and encoder (client side)
"""

from __future__ import annotations

from router.formats.anthropic.policy import DROPPED_HINTS
from router.formats.anthropic.request_decode import decode_anthropic_request
from router.formats.anthropic.request_encode import encode_anthropic_request
from router.formats.anthropic.response import (
    anthropic_error_body,
    decode_anthropic_response,
    decode_anthropic_usage,
    encode_anthropic_response,
    encode_anthropic_usage,
)
from router.formats.anthropic.stream import (
    AnthropicStreamDecoder,
    AnthropicStreamEncoder,
    sse_event,
)
from router.formats.codec import Codec, StreamDecoder, dumps
from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind
from router.formats.ir import Format, Request, Response
from router.formats.reasoning_cache import RecordingDecoder


class AnthropicCodec(Codec):
    format = Format.ANTHROPIC

    def decode_request(self, body: dict) -> Request:
        return decode_anthropic_request(body)

    def encode_request(self, req: Request, ctx: TranslationContext) -> dict:
        return encode_anthropic_request(req, ctx)

    def decode_response(self, body: dict, ctx: TranslationContext) -> Response:
        resp = decode_anthropic_response(body, ctx)
        ctx.reasoning.remember_parts(resp.parts)
        return resp

    def encode_response(self, resp: Response, ctx: TranslationContext) -> dict:
        return encode_anthropic_response(resp, ctx)

    def stream_decoder(self, ctx: TranslationContext) -> StreamDecoder:
        return RecordingDecoder(AnthropicStreamDecoder(ctx), ctx.reasoning)

    def stream_encoder(self, ctx: TranslationContext) -> AnthropicStreamEncoder:
        return AnthropicStreamEncoder(ctx)

    def encode_error(self, status: int, message: str, kind: ErrorKind) -> dict:
        return anthropic_error_body(message, kind)

    def encode_stream_error(self, status: int, message: str, kind: ErrorKind) -> bytes:
        return sse_event("error", dumps(anthropic_error_body(message, kind)))


__all__ = [
    "DROPPED_HINTS",
    "AnthropicCodec",
    "AnthropicStreamDecoder",
    "AnthropicStreamEncoder",
    "anthropic_error_body",
    "decode_anthropic_request",
    "decode_anthropic_response",
    "decode_anthropic_usage",
    "encode_anthropic_request",
    "encode_anthropic_response",
    "encode_anthropic_usage",
]
