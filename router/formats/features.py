"""What each target format can express, and the 400 that says so when it cannot.

Every top-level field of a client request is, per client format, one of:
- translated: carried by the IR to every target that can express it;
- a hint dropped on purpose: listed, with the reason, in the codec's DROPPED_HINTS;
- untranslatable: decoders record it in `Request.untranslatable` and every target
  rejects it (only the passthrough path, same format in and out, can serve it);
- unknown: treated as untranslatable, never dropped in silence.

Decoders do not know the target; each encoder calls `check_target(req, its format)`
first, so the 400 names the client's field and the upstream format that cannot take it.
"""

from __future__ import annotations

from typing import Any

from router.formats.errors import UnsupportedFeature
from router.formats.ir import Format, Request

FORMAT_LABEL = {
    Format.OPENAI_CHAT: "OpenAI Chat Completions",
    Format.OPENAI_RESPONSES: "OpenAI Responses",
    Format.ANTHROPIC: "Anthropic Messages",
    Format.GEMINI: "Gemini generateContent",
}

UNKNOWN_FIELD = "a field cliproxy cannot translate"

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


def check_target(req: Request, target: Format) -> None:
    """Raise UnsupportedFeature for the first field of `req` that `target` cannot express."""
    for field, what in req.untranslatable.items():
        raise cannot_express(field, what, target)
    for name, (what, targets) in _PORTABLE.items():
        if target not in targets and _is_set(name, getattr(req, name)):
            raise cannot_express(client_field(req, name), what, target)


def note_unknown(
    body: dict, known: frozenset[str], untranslatable: dict[str, str], where: str = ""
) -> None:
    """Record every field of `body` outside `known` as untranslatable."""
    for name in body:
        if name not in known:
            untranslatable.setdefault(where + name, UNKNOWN_FIELD)
