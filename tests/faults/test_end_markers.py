"""The passthrough end check: byte patterns only, exact about JSON structure, and blind to
the same words inside text."""

from __future__ import annotations

import json

import pytest

from router.formats import Format
from router.generation.passthrough import Passthrough
from router.generation.stream_end import EndWatch

ENDINGS = {
    Format.OPENAI_CHAT: b'data: {"choices":[]}\n\ndata: [DONE]\n\n',
    Format.ANTHROPIC: b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    Format.OPENAI_RESPONSES: (
        b'event: response.completed\ndata: {"type":"response.completed","response":{}}\n\n'
    ),
    Format.GEMINI: b'data: {"candidates":[{"content":{"parts":[{"text":"."}]},'
    b'"finishReason": "STOP"}]}\r\n\r\n',
}


def text_event(fmt: Format, text: str) -> bytes:
    """A content event whose text holds ``text`` (JSON-encoded, as upstreams send it)."""
    encoded = json.dumps(text)
    if fmt is Format.ANTHROPIC:
        return f'event: content_block_delta\ndata: {{"delta":{{"text":{encoded}}}}}\n\n'.encode()
    return f'data: {{"delta":{encoded}}}\n\n'.encode()


def watch(fmt: Format, *chunks: bytes) -> bool:
    end = EndWatch(fmt)
    for chunk in chunks:
        end.feed(chunk)
    return end.seen


@pytest.mark.parametrize("fmt", list(ENDINGS))
def test_the_end_marker_is_seen_whole_or_split_byte_by_byte(fmt: Format) -> None:
    stream = text_event(fmt, "hello") + ENDINGS[fmt]
    assert watch(fmt, stream)
    assert watch(fmt, *[stream[i : i + 1] for i in range(len(stream))])
    assert not watch(fmt, text_event(fmt, "hello"))


@pytest.mark.parametrize("fmt", list(ENDINGS))
def test_end_words_inside_text_do_not_count(fmt: Format) -> None:
    sneaky = (
        'data: [DONE]\n\nevent: message_stop\n"type":"response.completed" '
        '"finishReason": "STOP" {"error": 1}'
    )
    stream = text_event(fmt, sneaky)
    assert not watch(fmt, stream)
    assert not watch(fmt, *[stream[i : i + 1] for i in range(len(stream))])


def test_in_band_errors_end_a_stream() -> None:
    assert watch(Format.OPENAI_CHAT, b'data: {"error": {"message": "overloaded"}}\n\n')
    assert watch(Format.ANTHROPIC, b'event: error\ndata: {"type":"error","error":{}}\n\n')
    assert watch(Format.GEMINI, b'data: {"error": {"code": 503}}\r\n\r\n')
    assert watch(Format.OPENAI_RESPONSES, b"event: response.failed\ndata: {}\n\n")


def test_a_blocked_gemini_prompt_ends_without_finish_reason() -> None:
    assert watch(Format.GEMINI, b'data: {"promptFeedback": {"blockReason": "SAFETY"}}\r\n\r\n')


def test_passthrough_appends_an_error_only_when_the_end_is_missing() -> None:
    complete = Passthrough(Format.ANTHROPIC, "p")
    complete.feed(text_event(Format.ANTHROPIC, "hi") + ENDINGS[Format.ANTHROPIC])
    assert complete.finish() == b"" and not complete.truncated
    cut = Passthrough(Format.ANTHROPIC, "p")
    cut.feed(text_event(Format.ANTHROPIC, "hi"))
    tail = cut.finish()
    assert cut.truncated and tail.startswith(b"event: error\n")
    assert b"upstream p ended the stream without message_stop" in tail
