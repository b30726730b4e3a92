"""What each target format can express: what is dropped (and named) and what is a 400.

Every top-level field of a client request is, per client format, one of:
- translated: carried by the IR to every target that can express it;
- a hint dropped on purpose: listed, with the reason, in the codec's DROPPED_HINTS;
- untranslatable: decoders record it in `Request.untranslatable` and every target
  rejects it (only the passthrough path, same format in and out, can serve it);
- unknown: recorded like an untranslatable field, but dropped rather than rejected.

The policy (issue #12): a 400 only where the answer would be wrong without the field
(more than one choice, log probabilities, non-text output, state cliproxy does not
have, ...). Unknown fields and sampling hints the target lacks (seed, penalties,
logit_bias, top-k) are dropped, and every drop is named in TranslationContext.dropped;
a strict context (`translation.strict`) turns those drops back into 400s.

Decoders do not know the target; each encoder calls `check_target(req, its format, ctx)`
first, so a 400 names the client's field and the upstream format that cannot take it.
"""

from __future__ import annotations

from typing import Any

from router.formats import web_search
from router.formats.context import TranslationContext
from router.formats.errors import UnsupportedFeature
from router.formats.ir import Format, Request

FORMAT_LABEL = {
    Format.OPENAI_CHAT: "OpenAI Chat Completions",
    Format.OPENAI_RESPONSES: "OpenAI Responses",
    Format.ANTHROPIC: "Anthropic Messages",
    Format.GEMINI: "Gemini generateContent",
}

UNKNOWN_FIELD = "a field cliproxy cannot translate"
HOSTED_TOOL = "a tool hosted by the client's provider (web search, file search, ...)"
# What an untranslatable field asks for, when a target can still give a right answer
# without it: dropped (and named) unless the context is strict.
_DROPPABLE = frozenset({UNKNOWN_FIELD, HOSTED_TOOL})

# IR field -> (what it asks for, the targets that express it). A target not listed
# answers 400 when the field is set to anything but its default.
_PORTABLE: dict[str, tuple[str, frozenset[Format]]] = {
    "seed": ("a sampling seed", frozenset({Format.OPENAI_CHAT, Format.GEMINI})),
    "presence_penalty": ("a presence penalty", frozenset({Format.OPENAI_CHAT, Format.GEMINI})),
    "frequency_penalty": (
        "a frequency penalty",
        frozenset({Format.OPENAI_CHAT, Format.GEMINI}),
    ),
    "logit_bias": ("token logit biases", frozenset({Format.OPENAI_CHAT})),
    "top_k": ("top-k sampling", frozenset({Format.ANTHROPIC, Format.GEMINI})),
    "previous_response_id": (
        "a conversation stored upstream (cliproxy keeps no conversation store: send the "
        "whole conversation in `input`)",
        frozenset({Format.OPENAI_RESPONSES}),
    ),
}

# Portable fields that only steer sampling: a target without them still gives a right
# answer, so they are dropped (and named) unless the request is strict.
_SAMPLING_HINTS = frozenset(
    {"seed", "presence_penalty", "frequency_penalty", "logit_bias", "top_k"}
)
# IR hints that some targets have no field for: always dropped there, and named.
_IR_HINTS: dict[str, frozenset[Format]] = {
    "user": frozenset({Format.OPENAI_CHAT, Format.OPENAI_RESPONSES, Format.ANTHROPIC}),
    "verbosity": frozenset({Format.OPENAI_CHAT, Format.OPENAI_RESPONSES}),
}

# IR field -> the client's own name for it, where that differs from the IR name.
_CLIENT_FIELD: dict[str, dict[Format, str]] = {
    "seed": {Format.GEMINI: "generationConfig.seed"},
    "presence_penalty": {Format.GEMINI: "generationConfig.presencePenalty"},
    "frequency_penalty": {Format.GEMINI: "generationConfig.frequencyPenalty"},
    "top_k": {Format.GEMINI: "generationConfig.topK"},
    "stop": {
        Format.ANTHROPIC: "stop_sequences",
        Format.GEMINI: "generationConfig.stopSequences",
    },
    "user": {Format.ANTHROPIC: "metadata.user_id"},
    "verbosity": {Format.OPENAI_RESPONSES: "text.verbosity"},
}


def client_field(req: Request, name: str) -> str:
    """The name the client used for IR field `name`."""
    if req.origin is None:
        return name
    return _CLIENT_FIELD.get(name, {}).get(req.origin, name)


def cannot_express(field: str, what: str, target: Format) -> UnsupportedFeature:
    return UnsupportedFeature(
        f"{field}: {what} cannot be translated to {FORMAT_LABEL[target]}, the format of "
        "this model's upstream; remove the field or use a model whose upstream supports it"
    )


def _is_set(name: str, value: Any) -> bool:
    if value is None:
        return False
    if name in ("presence_penalty", "frequency_penalty"):
        return value != 0
    if name == "logit_bias":
        return bool(value)
    return True


def check_target(req: Request, target: Format, ctx: TranslationContext | None = None) -> None:
    """Raise UnsupportedFeature for the first field of `req` that `target` cannot express
    and that may not be dropped; record every dropped field in `ctx.dropped`. Without a
    context, or with a strict one, nothing but the hints is dropped."""
    lenient = ctx if ctx is not None and not ctx.strict else None
    for field, what in req.untranslatable.items():
        if lenient is None or what not in _DROPPABLE:
            raise cannot_express(field, what, target)
        lenient.drop(field)
    for name, (what, targets) in _PORTABLE.items():
        if target in targets or not _is_set(name, getattr(req, name)):
            continue
        if lenient is None or name not in _SAMPLING_HINTS:
            raise cannot_express(client_field(req, name), what, target)
        lenient.drop(client_field(req, name))
    if req.web_search is not None and target not in web_search.TARGETS:
        if lenient is None:
            raise cannot_express(req.web_search, HOSTED_TOOL, target)
        lenient.drop(req.web_search)
    if ctx is not None:
        _note_hints(req, target, ctx)
        _note_client_tools(req, ctx)


def _note_client_tools(req: Request, ctx: TranslationContext) -> None:
    """Tools the client format shapes differently from a function (Responses custom and
    namespaced tools), so the answer can be given back in the client's own shape."""
    for tool in req.tools:
        if tool.freeform:
            ctx.freeform_tools.add(tool.name)
        if tool.namespaced is not None:
            ctx.namespaced_tools[tool.name] = tool.namespaced


def _note_hints(req: Request, target: Format, ctx: TranslationContext) -> None:
    for name in req.hints:
        ctx.drop(name)
    for name, targets in _IR_HINTS.items():
        if target not in targets and getattr(req, name) is not None:
            ctx.drop(client_field(req, name))


def note_unknown(
    body: dict, known: frozenset[str], untranslatable: dict[str, str], where: str = ""
) -> None:
    """Record every field of `body` outside `known` as untranslatable."""
    for name in body:
        if name not in known:
            untranslatable.setdefault(where + name, UNKNOWN_FIELD)
