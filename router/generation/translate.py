"""Different formats in and out: translate through the formats layer's IR."""

from __future__ import annotations

from router.error_replies import stream_error_bytes
from router.errors import ProxyError
from router.formats import Format, SSEParser, TranslationContext, get_codec
from router.formats.ir import Finish, StreamError, Usage
from router.upstreams.faults import AnswerTooLarge


def usage_log_fields(usage: Usage) -> dict[str, int]:
    return {
        "tokens_in": usage.input_tokens,
        "tokens_out": usage.output_tokens,
        "tokens_cached": usage.cache_read_tokens,
        "tokens_reasoning": usage.reasoning_tokens,
    }


class TranslatingStream:
    """Upstream SSE bytes -> IR stream events -> client stream bytes, event by event.

    An upstream stream the decoder finds cut short ends with its error event and sets
    ``truncated``. The parser holds an event until it ends, so one that grows past
    ``event_limit`` bytes raises AnswerTooLarge instead of growing without bound.
    """

    def __init__(
        self,
        upstream: Format,
        client: Format,
        ctx: TranslationContext,
        event_limit: int = 32 * 1024 * 1024,
    ) -> None:
        self.usage: dict[str, int] = {}
        self.truncated = False
        self._client = client
        self._event_limit = event_limit
        self._pending = 0
        self._parser = SSEParser()
        self._decoder = get_codec(upstream).stream_decoder(ctx)
        self._encoder = get_codec(client).stream_encoder(ctx)

    def feed(self, chunk: bytes) -> bytes:
        out = []
        encode = self._encoder.encode
        events = self._parser.feed(chunk)
        self._pending = len(chunk) if events else self._pending + len(chunk)
        if self._pending > self._event_limit:
            raise AnswerTooLarge(self._event_limit)
        for event in events:
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
            elif type(ev) is StreamError:
                self.truncated = True
            out.append(self._encoder.encode(ev))
        out.append(self._encoder.finish())
        return b"".join(out)

    def fail(self, error: ProxyError) -> bytes:
        """The closing error event; the codec's plain one if the encoder itself failed."""
        failure = StreamError(error.status, error.message, error.kind)
        try:
            return self._encoder.encode(failure) + self._encoder.finish()
        except Exception:
            return stream_error_bytes(self._client, error)
