"""Gemini generateContent codec.

The model name and the streaming choice live in the URL, not the body: decode_request
leaves `model` empty (unless the body has one) and `stream` False; the router sets both.
encode_request returns a body without model; the router builds the URL from req.model.

policy.py          which request fields are translated, dropped as hints or rejected
parts.py           Gemini parts <-> IR parts (thought signatures, call ids), snake_case
request_decode.py  client request -> IR          request_encode.py  IR -> upstream request
response.py        whole answers both ways, usage, finish reasons, error bodies
stream.py          chunk stream decoder (upstream side) and encoder (client side)
"""

from __future__ import annotations

from router.formats.codec import Codec, StreamDecoder, dumps
from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind
from router.formats.gemini.parts import camel_fields, standard_base64
from router.formats.gemini.policy import DROPPED_HINTS
from router.formats.gemini.request_decode import decode_gemini_request
from router.formats.gemini.request_encode import encode_gemini_request
from router.formats.gemini.response import (
    decode_gemini_response,
    decode_gemini_usage,
    encode_gemini_response,
    encode_gemini_usage,
    gemini_error_body,
)
from router.formats.gemini.stream import GeminiStreamDecoder, GeminiStreamEncoder
from router.formats.ir import Format, Request, Response
from router.formats.reasoning_cache import RecordingDecoder


class GeminiCodec(Codec):
    format = Format.GEMINI

    def decode_request(self, body: dict) -> Request:
        return decode_gemini_request(body)

    def encode_request(self, req: Request, ctx: TranslationContext) -> dict:
        return encode_gemini_request(req, ctx)

    def decode_response(self, body: dict, ctx: TranslationContext) -> Response:
        resp = decode_gemini_response(body, ctx)
        ctx.reasoning.remember_parts(resp.parts)
        return resp

    def encode_response(self, resp: Response, ctx: TranslationContext) -> dict:
        return encode_gemini_response(resp, ctx)

    def stream_decoder(self, ctx: TranslationContext) -> StreamDecoder:
        return RecordingDecoder(GeminiStreamDecoder(ctx), ctx.reasoning)

    def stream_encoder(self, ctx: TranslationContext) -> GeminiStreamEncoder:
        """ctx.sse=False selects the JSON-array mode (streamGenerateContent without alt=sse)."""
        return GeminiStreamEncoder(ctx, sse=ctx.sse)

    def encode_error(self, status: int, message: str, kind: ErrorKind) -> dict:
        return gemini_error_body(status, message, kind)

    def encode_stream_error(self, status: int, message: str, kind: ErrorKind) -> bytes:
        return f"data: {dumps(gemini_error_body(status, message, kind))}\r\n\r\n".encode()


__all__ = [
    "DROPPED_HINTS",
    "GeminiCodec",
    "GeminiStreamDecoder",
    "GeminiStreamEncoder",
    "camel_fields",
    "decode_gemini_request",
    "decode_gemini_response",
    "decode_gemini_usage",
    "encode_gemini_request",
    "encode_gemini_response",
    "encode_gemini_usage",
    "gemini_error_body",
    "standard_base64",
]
