"""OpenAI Chat Completions codec.

policy.py          which request fields are translated, dropped as hints or rejected
request_decode.py  client request -> IR          request_encode.py  IR -> upstream request
response.py        whole answers both ways, usage, finish reasons, error bodies
stream.py          chunk stream decoder (upstream side) and encoder (client side)
"""

from __future__ import annotations

from router.formats.codec import Codec, StreamDecoder, dumps
from router.formats.context import TranslationContext
from router.formats.errors import ErrorKind
from router.formats.ir import Format, Request, Response
from router.formats.openai_chat.policy import DROPPED_HINTS
from router.formats.openai_chat.request_decode import decode_chat_request
from router.formats.openai_chat.request_encode import encode_chat_request
from router.formats.openai_chat.response import (
    decode_chat_response,
    decode_chat_usage,
    encode_chat_response,
    encode_chat_usage,
    openai_error_body,
)
from router.formats.openai_chat.stream import ChatStreamDecoder, ChatStreamEncoder
from router.formats.reasoning_cache import RecordingDecoder
from router.formats.sse import encode_sse


class OpenAIChatCodec(Codec):
    format = Format.OPENAI_CHAT

    def decode_request(self, body: dict) -> Request:
        return decode_chat_request(body)

    def encode_request(self, req: Request, ctx: TranslationContext) -> dict:
        return encode_chat_request(req, ctx)

    def decode_response(self, body: dict, ctx: TranslationContext) -> Response:
        resp = decode_chat_response(body, ctx)
        ctx.reasoning.remember_parts(resp.parts)
        return resp

    def encode_response(self, resp: Response, ctx: TranslationContext) -> dict:
        return encode_chat_response(resp, ctx)

    def stream_decoder(self, ctx: TranslationContext) -> StreamDecoder:
        return RecordingDecoder(ChatStreamDecoder(ctx), ctx.reasoning)

    def stream_encoder(self, ctx: TranslationContext) -> ChatStreamEncoder:
        return ChatStreamEncoder(ctx)

    def encode_error(self, status: int, message: str, kind: ErrorKind) -> dict:
        return openai_error_body(message, kind)

    def encode_stream_error(self, status: int, message: str, kind: ErrorKind) -> bytes:
        return encode_sse(dumps(openai_error_body(message, kind)))


__all__ = [
    "DROPPED_HINTS",
    "ChatStreamDecoder",
    "ChatStreamEncoder",
    "OpenAIChatCodec",
    "decode_chat_request",
    "decode_chat_response",
    "decode_chat_usage",
    "encode_chat_request",
    "encode_chat_response",
    "encode_chat_usage",
    "openai_error_body",
]
