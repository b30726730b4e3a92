"""The reasoning cache: bounded, expiring, and what it puts back where."""

from __future__ import annotations

import copy

from router.formats import Format, TranslationContext, get_codec
from router.formats.ir import (
    BlockStart,
    BlockStop,
    Message,
    ReasoningDelta,
    ReasoningPart,
    Request,
    SignatureDelta,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from router.formats.reasoning_cache import ReasoningCache, ReasoningRecorder, with_cached_reasoning


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def thinking(
    text: str = "hmm", sig: str = "SIG", source: Format = Format.ANTHROPIC
) -> ReasoningPart:
    return ReasoningPart(text=text, signature=sig, source=source)


def test_least_recently_used_goes_first_past_the_cap() -> None:
    cache = ReasoningCache(max_entries=2)
    cache.remember("a", [thinking("a")])
    cache.remember("b", [thinking("b")])
    assert cache.recall("a") is not None  # a is now the most recent
    cache.remember("c", [thinking("c")])
    assert len(cache) == 2
    assert cache.recall("b") is None
    assert cache.recall("a") is not None and cache.recall("c") is not None


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = ReasoningCache(ttl=10, clock=clock)
    cache.remember("a", [thinking()])
    clock.now = 9.9
    assert cache.recall("a") is not None
    clock.now = 10.0
    assert cache.recall("a") is None
    assert len(cache) == 0


def test_reasoning_an_upstream_wants_back_before_a_call_is_remembered() -> None:
    """Signed reasoning, and Chat's unsigned reasoning_content (DeepSeek wants it back on a
    tool-call turn); other formats' unsigned thought text checks nothing and is not kept."""
    cache = ReasoningCache()
    cache.remember_parts(
        [
            ReasoningPart("plain", None, Format.GEMINI),
            ToolCallPart("call_1", "f", "{}"),
            thinking("signed"),
            TextPart("let me look"),
            ToolCallPart("call_2", "f", "{}"),
            ToolCallPart("call_3", "f", "{}"),
            ReasoningPart("chat", None, Format.OPENAI_CHAT),
            ToolCallPart("call_4", "f", "{}"),
            ReasoningPart("", None, Format.OPENAI_CHAT),
            ToolCallPart("call_5", "f", "{}"),
        ]
    )
    assert cache.recall("call_1") is None
    assert cache.recall("call_2") == (thinking("signed"),)
    assert cache.recall("call_3") is None  # parallel calls: the reasoning goes once
    assert cache.recall("call_4") == (ReasoningPart("chat", None, Format.OPENAI_CHAT),)
    assert cache.recall("call_5") is None


def test_recorder_rebuilds_streamed_reasoning() -> None:
    cache = ReasoningCache()
    recorder = ReasoningRecorder(cache)
    recorder.observe(
        [
            BlockStart(0, "reasoning", source=Format.ANTHROPIC),
            ReasoningDelta(0, "hm"),
            ReasoningDelta(0, "m"),
            SignatureDelta(0, "SIG", Format.ANTHROPIC),
            BlockStop(0),
            BlockStart(1, "tool_call", id="call_1", name="f"),
            BlockStop(1),
        ]
    )
    assert cache.recall("call_1") == (thinking("hmm"),)


def chat_history(*assistant: object) -> Request:
    return Request(
        model="m",
        messages=[
            Message("user", [TextPart("q")]),
            Message("assistant", list(assistant)),  # type: ignore[arg-type]
            Message("user", [ToolResultPart("call_1", [TextPart("18C")])]),
        ],
    )


def test_anthropic_thinking_goes_back_at_the_start_of_the_turn() -> None:
    cache = ReasoningCache()
    cache.remember("call_1", [thinking()])
    req = chat_history(TextPart("Looking."), ToolCallPart("call_1", "f", "{}"))
    restored = with_cached_reasoning(req, Format.ANTHROPIC, cache)
    assert restored.messages[1].parts[0] == thinking()
    assert req.messages[1].parts[0] == TextPart("Looking.")  # the shared IR is untouched
    assert with_cached_reasoning(req, Format.GEMINI, cache) is req  # not Gemini's reasoning


def test_gemini_signature_goes_back_on_the_function_call() -> None:
    cache = ReasoningCache()
    cache.remember("call_1", [thinking("", "GSIG", Format.GEMINI)])
    req = chat_history(TextPart("Looking."), ToolCallPart("call_1", "f", "{}"))
    body = get_codec(Format.GEMINI).encode_request(req, TranslationContext(reasoning=cache))
    assert body["contents"][1]["parts"] == [
        {"text": "Looking."},
        {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "GSIG"},
    ]


def test_cache_replaces_what_the_client_carried_of_that_format() -> None:
    cache = ReasoningCache()
    cache.remember("call_1", [thinking("full text")])
    req = chat_history(thinking("", "SIG"), ToolCallPart("call_1", "f", "{}"))
    body = get_codec(Format.ANTHROPIC).encode_request(req, TranslationContext(reasoning=cache))
    assert body["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "full text",
        "signature": "SIG",
    }


def test_a_copied_context_shares_the_cache() -> None:
    ctx = TranslationContext()
    assert copy.deepcopy(ctx).reasoning is ctx.reasoning


def test_answers_feed_the_cache_whole_and_streamed() -> None:
    ctx = TranslationContext(reasoning=ReasoningCache())
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "SIG"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    get_codec(Format.ANTHROPIC).decode_response(body, ctx)
    assert ctx.reasoning.recall("toolu_1") == (thinking(),)
