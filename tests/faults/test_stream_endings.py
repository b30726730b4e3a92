"""A stream that goes wrong after it started ends with an error event in the client's
format and a clean close: malformed events, exceptions in the translation, passthrough
streams cut before their format's final event, 200s whose body is not an event stream."""

from __future__ import annotations

import pytest

from router.formats import Format
from router.generation import translate
from tests.conftest import StartRouter
from tests.fakes.behaviours import BadEvent, Garbage, Reply, Stream, Trickle, Truncate
from tests.faults.clients import KINDS, MODEL, Fakes, ask, clean_error, fault_config, settle

# After two content deltas, 50 ms apart, so the bad event is not in the first chunk.
SLOW = Stream(chunks=4, interval=0.05)
# An event of an unexpected shape in each upstream format.
BAD_SHAPES = {
    "openai": BadEvent({"choices": [None]}, after_chunks=2, reply=SLOW),
    "openai-responses": BadEvent(
        {"type": "response.output_item.added", "output_index": 1, "item": [1]},
        event="response.output_item.added",
        after_chunks=2,
        reply=SLOW,
    ),
    "anthropic": BadEvent(
        {"type": "content_block_delta", "index": 0, "delta": "not an object"},
        event="content_block_delta",
        after_chunks=2,
        reply=SLOW,
    ),
    "gemini": BadEvent({"candidates": [None]}, after_chunks=2, reply=SLOW),
}


def other(kind: str) -> str:
    """A client format different from ``kind``, so the stream is translated."""
    return KINDS[(KINDS.index(kind) + 1) % len(KINDS)]


@pytest.mark.parametrize("upstream", KINDS)
async def test_malformed_event_mid_translated_stream_ends_with_error_event(
    router_factory: StartRouter, fakes: Fakes, upstream: str
) -> None:
    router = await router_factory(fault_config(fakes))
    fakes.of(upstream).script.push(BAD_SHAPES[upstream])
    client = other(upstream)
    answer = await ask(router, client, MODEL[upstream], stream=True)
    assert answer.status == 200
    assert clean_error(client, answer) is None, answer.body
    assert await settle(router, fakes) is None


async def test_choices_null_chunk_from_openai_to_anthropic_client(
    router_factory: StartRouter, fakes: Fakes
) -> None:
    """The audit's case: ``{"choices":[null]}`` wrote a second HTTP response into the body."""
    router = await router_factory(fault_config(fakes))
    fakes.openai.script.push(BAD_SHAPES["openai"])
    answer = await ask(router, "anthropic", MODEL["openai"], stream=True)
    events = answer.events()
    assert answer.status == 200 and b"HTTP/1.1" not in answer.body
    assert events[-1][0] == "error"
    assert "could not read" in events[-1][1]["error"]["message"]
    assert [name for name, _ in events].count("content_block_delta") >= 1


async def test_any_exception_in_the_encoder_ends_the_stream_cleanly(
    router_factory: StartRouter, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = translate.get_codec

    class Exploding:
        def __init__(self, inner: object) -> None:
            self.inner = inner
            self.calls = 0

        def encode(self, event: object) -> bytes:
            self.calls += 1
            if self.calls == 3:
                raise KeyError("boom")
            return self.inner.encode(event)  # type: ignore[attr-defined]

        def finish(self) -> bytes:
            return self.inner.finish()  # type: ignore[attr-defined]

    class Codec:
        def __init__(self, fmt: Format) -> None:
            self.codec = real(fmt)

        def stream_decoder(self, ctx: object) -> object:
            return self.codec.stream_decoder(ctx)

        def stream_encoder(self, ctx: object) -> object:
            return Exploding(self.codec.stream_encoder(ctx))

    monkeypatch.setattr(translate, "get_codec", Codec)
    router = await router_factory(fault_config(fakes))
    fakes.anthropic.script.push(Stream(chunks=5))
    answer = await ask(router, "openai", MODEL["anthropic"], stream=True)
    assert answer.status == 200
    assert clean_error("openai", answer) is None, answer.body
    assert await settle(router, fakes) is None


@pytest.mark.parametrize("kind", KINDS)
async def test_passthrough_stream_cut_before_its_end_gets_an_error_event(
    router_factory: StartRouter, fakes: Fakes, kind: str
) -> None:
    router = await router_factory(fault_config(fakes))
    fakes.of(kind).script.push(Truncate(after_chunks=2, reply=SLOW))
    answer = await ask(router, kind, MODEL[kind], stream=True)
    assert answer.status == 200
    assert clean_error(kind, answer) is None, answer.body[-400:]
    assert b"ended the stream without" in answer.body


@pytest.mark.parametrize("kind", KINDS)
async def test_complete_passthrough_stream_gets_no_error_even_one_byte_at_a_time(
    router_factory: StartRouter, fakes: Fakes, kind: str
) -> None:
    router = await router_factory(fault_config(fakes))
    fakes.of(kind).script.push(Trickle(0.0005, Stream(chunks=2)))
    answer = await ask(router, kind, MODEL[kind], stream=True, timeout=30)
    assert answer.status == 200
    assert clean_error(kind, answer) is not None, "a complete stream was given an error"
    assert b"ended the stream without" not in answer.body


@pytest.mark.parametrize("kind", KINDS)
async def test_translated_stream_cut_before_its_end_gets_an_error_event(
    router_factory: StartRouter, fakes: Fakes, kind: str
) -> None:
    router = await router_factory(fault_config(fakes))
    fakes.of(kind).script.push(Truncate(after_chunks=2, reply=SLOW))
    client = other(kind)
    answer = await ask(router, client, MODEL[kind], stream=True)
    assert clean_error(client, answer) is None, answer.body[-400:]


@pytest.mark.parametrize("framed", [True, False], ids=["data-garbage", "raw-garbage"])
@pytest.mark.parametrize("translated", [False, True], ids=["passthrough", "translated"])
async def test_garbage_200_stream_fails_over_before_the_client_sees_a_byte(
    router_factory: StartRouter, fakes: Fakes, framed: bool, translated: bool
) -> None:
    config = fault_config(fakes, routing={"max-retries": 1})
    config["providers"][0]["api-keys"] = [
        {"name": "bad", "key": fakes.openai.key},
        {"name": "good", "key": fakes.openai.key},
    ]
    config["routing"]["strategy"] = "fill-first"
    router = await router_factory(config)
    body = '{"this is": not json' if framed else "<html><body>Gateway</body></html>\n\n"
    fakes.openai.script.push(Garbage(body, framed=framed), Reply(text="fine answer"))
    client = "anthropic" if translated else "openai"
    answer = await ask(router, client, MODEL["openai"], stream=True)
    assert answer.status == 200
    assert b"fine" in answer.body
    assert clean_error(client, answer) is not None, "the good answer ended with an error"
    assert len(fakes.openai.requests) == 2
    cooling = router.state.cooldowns.active("p-openai")
    assert [c["credential"] for c in cooling] == ["bad"]


async def test_garbage_200_with_no_alternative_is_a_502_in_the_client_format(
    router_factory: StartRouter, fakes: Fakes
) -> None:
    router = await router_factory(fault_config(fakes))
    fakes.gemini.script.push(Garbage("<html>oops</html>\n", framed=False))
    answer = await ask(router, "gemini", MODEL["gemini"], stream=True)
    assert answer.status == 502
    assert clean_error("gemini", answer) is None
    assert b"not an event stream" in answer.body
