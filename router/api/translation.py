"""Different formats in and out: translate through the formats layer's IR."""

from __future__ import annotations

from router.errors import ProxyError
from router.formats import Format, SSEParser, TranslationContext, get_codec
from router.formats.ir import Finish, StreamError, Usage


def usage_log_fields(usage: Usage) -> dict[str, int]:
    return {
        "tokens_in": usage.input_tokens,
        "tokens_out": usage.output_tokens,
        "tokens_cached": usage.cache_read_tokens,
        "tokens_reasoning": usage.reasoning_tokens,
    }


class TranslatingStream:
    """Upstream SSE bytes -> IR stream events -> client stream bytes, event by event."""

    def __init__(self, upstream: Format, client: Format, ctx: TranslationContext) -> None:
        self.usage: dict[str, int] = {}
        self._parser = SSEParser()
        self._decoder = get_codec(upstream).stream_decoder(ctx)
        self._encoder = get_codec(client).stream_encoder(ctx)

    def feed(self, chunk: bytes) -> bytes:
        out = []
        encode = self._encoder.encode
        for event in self._parser.feed(chunk):
            for ev in self._decoder.feed(event):
                if type(ev) is Finish:
                    self.usage = usage_log_fields(ev.usage)
                out.append(encode(ev))
        return b"".join(out)

    def finish(self) -> bytes:
        out = []
        for ev in self._decoder.close():
            if type(ev) is Finish:
                self.usage = usage_log_fields(ev.usage)
            out.append(self._encoder.encode(ev))
        out.append(self._encoder.finish())
        return b"".join(out)

    def fail(self, error: ProxyError) -> bytes:
        failure = StreamError(error.status, error.message, error.kind)
        return self._encoder.encode(failure) + self._encoder.finish()
