"""OpenAI Responses codec.

policy.py          which request fields are translated, dropped as hints or rejected
request_decode.py  client request -> IR          request_encode.py  IR -> upstream request
response.py        whole answers both ways, usage, stop reasons, output item shapes
stream.py          event stream decoder (upstream side) and encoder (client side)
"""

from __future__ import annotations

from router.formats.codec import Codec, StreamDecoder
from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind
from router.formats.ir import Format, Request, Response
from router.formats.openai_chat import openai_error_body
from router.formats.openai_responses.policy import DROPPED_HINTS
from router.formats.openai_responses.request_decode import decode_responses_request
from router.formats.openai_responses.request_encode import encode_responses_request
from router.formats.openai_responses.response import (
    decode_responses_response,
    decode_responses_usage,
    encode_responses_response,
    encode_responses_usage,
)
from router.formats.openai_responses.stream import ResponsesStreamDecoder, ResponsesStreamEncoder
from router.formats.reasoning_cache import RecordingDecoder


class OpenAIResponsesCodec(Codec):
    format = Format.OPENAI_RESPONSES

    def decode_request(self, body: dict) -> Request:
        return decode_responses_request(body)

    def encode_request(self, req: Request, ctx: TranslationContext) -> dict:
        return encode_responses_request(req, ctx)

    def decode_response(self, body: dict, ctx: TranslationContext) -> Response:
        resp = decode_responses_response(body, ctx)
        ctx.reasoning.remember_parts(resp.parts)
        return resp

    def encode_response(self, resp: Response, ctx: TranslationContext) -> dict:
        return encode_responses_response(resp, ctx)

    def stream_decoder(self, ctx: TranslationContext) -> StreamDecoder:
        return RecordingDecoder(ResponsesStreamDecoder(ctx), ctx.reasoning)

    def stream_encoder(self, ctx: TranslationContext) -> ResponsesStreamEncoder:
        return ResponsesStreamEncoder(ctx)

    def encode_error(self, status: int, message: str, kind: ErrorKind) -> dict:
        return openai_error_body(message, kind)

    def encode_stream_error(self, status: int, message: str, kind: ErrorKind) -> bytes:
        """Error before any stream event was sent (sequence numbers start at 0). Mid-stream,
        pass a StreamError to the stream encoder instead so numbering stays consistent."""
        return ResponsesStreamEncoder(TranslationContext()).error(message, kind)


__all__ = [
    "DROPPED_HINTS",
    "OpenAIResponsesCodec",
    "ResponsesStreamDecoder",
    "ResponsesStreamEncoder",
    "decode_responses_request",
    "decode_responses_response",
    "decode_responses_usage",
    "encode_responses_request",
    "encode_responses_response",
    "encode_responses_usage",
]
