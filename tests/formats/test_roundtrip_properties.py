"""Property tests.

A -> IR -> A: a body produced by codec A, decoded and re-encoded by A, is byte-for-byte
the same structure. A -> B -> A: a conversation carried through B and back keeps its
meaning, compared after this normalisation: consecutive messages of the same role are
merged (formats differ in how they split tool results from text), call ids are replaced
by their order of first appearance (Gemini has no ids), and fields the generator never
varies are ignored. The generator only produces what every format can express: one
system text, text and base64 images, tools with simple object schemas, tool choice,
parallel calls, max tokens and temperature (stop sequences only where supported).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fmt_helpers import ctx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.formats import Format, get_codec
from router.formats.ir import (
    ImagePart,
    Message,
    Request,
    TextPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)

FORMATS = list(Format)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

words = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s
)
tool_names = st.sampled_from(["get_weather", "search", "run_cmd"])
args = st.dictionaries(
    st.sampled_from(["a", "b", "city"]), st.one_of(st.integers(0, 99), words), max_size=2
)


@st.composite
def conversations(draw: st.DrawFn, with_stop: bool) -> Request:
    tools = [
        Tool(
            name,
            draw(st.one_of(st.none(), words)),
            {"type": "object", "properties": {"x": {"type": "string"}}},
        )
        for name in draw(st.lists(tool_names, unique=True, max_size=3))
    ]
    messages: list[Message] = []
    pending: list[str] = []
    counter = 0
    for _ in range(draw(st.integers(1, 3))):
        user: list = [ToolResultPart(cid, [TextPart(draw(words))], False) for cid in pending]
        user += [TextPart(t) for t in draw(st.lists(words, min_size=1, max_size=2))]
        if draw(st.booleans()):
            user.append(ImagePart(media_type="image/png", data="iVBORw0KGgo="))
        messages.append(Message("user", user))
        assistant: list = []
        if draw(st.booleans()):
            assistant.append(TextPart(draw(words)))
        pending = []
        if tools:
            for _ in range(draw(st.integers(0, 2))):
                counter += 1
                cid = f"call_{counter}"
                name = draw(st.sampled_from([t.name for t in tools]))
                assistant.append(
                    ToolCallPart(cid, name, json.dumps(draw(args), separators=(",", ":")))
                )
                pending.append(cid)
        if not assistant:
            assistant.append(TextPart(draw(words)))
        messages.append(Message("assistant", assistant))
    messages.append(
        Message(
            "user",
            [ToolResultPart(cid, [TextPart("ok")], False) for cid in pending] + [TextPart("next")],
        )
    )
    choice = None
    if tools:
        mode = draw(st.sampled_from(["auto", "none", "required", "tool", None]))
        if mode == "tool":
            choice = ToolChoice("tool", tools[0].name)
        elif mode:
            choice = ToolChoice(mode)
    return Request(
        model="m",
        messages=messages,
        system=draw(st.lists(words, max_size=1)),
        tools=tools,
        tool_choice=choice,
        max_tokens=draw(st.integers(1, 4000)),
        temperature=draw(st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0]))),
        stop=draw(st.lists(words, max_size=2)) if with_stop else [],
    )


def normalise(req: Request) -> dict:
    ids: dict[str, int] = {}

    def cid(x: str) -> int:
        return ids.setdefault(x, len(ids))

    merged: list[tuple[str, list]] = []
    for msg in req.messages:
        parts = []
        for p in msg.parts:
            if isinstance(p, ToolCallPart):
                parts.append(("call", cid(p.id), p.name, json.loads(p.arguments or "{}")))
            elif isinstance(p, ToolResultPart):
                parts.append(("result", cid(p.call_id), [c.text for c in p.content], p.is_error))
            elif isinstance(p, TextPart):
                parts.append(("text", p.text))
            elif isinstance(p, ImagePart):
                parts.append(("image", p.media_type, p.data, p.url))
        if merged and merged[-1][0] == msg.role:
            merged[-1][1].extend(parts)
        else:
            merged.append((msg.role, parts))
    return {
        "system": "\n\n".join(req.system),
        "messages": merged,
        "tools": [(t.name, t.description, t.parameters) for t in req.tools],
        "tool_choice": req.tool_choice,
        "max_tokens": req.max_tokens,
        "temperature": req.temperature,
        "stop": req.stop,
    }


def through(fmt: Format, req: Request) -> Request:
    codec = get_codec(fmt)
    decoded = codec.decode_request(codec.encode_request(req, ctx()))
    return replace(decoded, model=req.model)


@pytest.mark.parametrize("fmt", FORMATS)
@SETTINGS
@given(data=st.data())
def test_a_ir_a_is_identity(fmt: Format, data: st.DataObject) -> None:
    req = data.draw(conversations(with_stop=fmt is not Format.OPENAI_RESPONSES))
    codec = get_codec(fmt)
    body = codec.encode_request(req, ctx())
    again = codec.encode_request(codec.decode_request(body), ctx())
    if fmt is Format.GEMINI:
        body["model"] = again["model"] = None
    assert again == body
    assert normalise(through(fmt, req)) == normalise(req)


@pytest.mark.parametrize("a", FORMATS)
@pytest.mark.parametrize("b", FORMATS)
@SETTINGS
@given(data=st.data())
def test_a_b_a_keeps_meaning(a: Format, b: Format, data: st.DataObject) -> None:
    if a is b:
        return
    req = data.draw(conversations(with_stop=Format.OPENAI_RESPONSES not in (a, b)))
    via_a = through(a, req)
    back = through(a, through(b, via_a))
    assert normalise(back) == normalise(via_a)


penalties = st.one_of(st.none(), st.sampled_from([-1.5, 0.0, 0.25, 2.0]))


@SETTINGS
@given(
    seed=st.one_of(st.none(), st.integers(0, 2**31 - 1)),
    presence=penalties,
    frequency=penalties,
    top_k=st.one_of(st.none(), st.integers(1, 500)),
)
def test_sampling_knobs_survive_the_formats_that_share_them(
    seed: int | None, presence: float | None, frequency: float | None, top_k: int | None
) -> None:
    base = Request(model="m", messages=[Message("user", [TextPart("hi")])])
    chat_knobs = replace(base, seed=seed, presence_penalty=presence, frequency_penalty=frequency)
    back = through(Format.OPENAI_CHAT, through(Format.GEMINI, chat_knobs))
    assert (back.seed, back.presence_penalty, back.frequency_penalty) == (seed, presence, frequency)
    anthropic_knobs = replace(base, top_k=top_k, max_tokens=100)
    assert through(Format.ANTHROPIC, through(Format.GEMINI, anthropic_knobs)).top_k == top_k
