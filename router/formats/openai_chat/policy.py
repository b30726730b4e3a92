"""Field policy of OpenAI Chat Completions requests: what translation does with each
top-level field (see router/formats/features.py)."""

from __future__ import annotations

from router.formats.codec import optional
from router.formats.features import note_unknown

TRANSLATED = frozenset(
    {
        "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens",
        "max_completion_tokens", "temperature", "top_p", "stop", "stream", "stream_options",
        "reasoning_effort", "response_format", "seed", "presence_penalty",
        "frequency_penalty", "logit_bias", "user", "safety_identifier", "verbosity",
        "functions", "function_call",
    }
)  # fmt: skip
# Dropped on purpose: none of them changes what the model generates.
DROPPED_HINTS = {
    "store": "OpenAI's stored completions; a translated upstream stores nothing",
    "metadata": "tags for OpenAI's stored completions",
    "service_tier": "the OpenAI account's processing tier",
    "prompt_cache_key": "a prompt-cache routing hint",
    "prompt_cache_retention": "a prompt-cache retention hint",
    "prompt_cache_options": "prompt-cache breakpoints",
    "prediction": "a latency optimisation; the output is the same without it",
}
# Accepted at their default value only; anything else no other format can express.
DEFAULT_ONLY = frozenset(
    {"n", "logprobs", "top_logprobs", "modalities", "audio", "web_search_options", "moderation"}
)
KNOWN = TRANSLATED | frozenset(DROPPED_HINTS) | DEFAULT_ONLY
# Fields that ask for something only OpenAI provides whenever they are present at all.
_SET_ONLY_HERE = {
    "audio": "audio output",
    "web_search_options": "OpenAI's built-in web search",
    "moderation": "OpenAI's moderation of input and output",
}


def untranslatable(body: dict) -> dict[str, str]:
    """Client fields no other format can express, with what each asks for."""
    found: dict[str, str] = {}
    if body.keys() <= TRANSLATED:  # most requests: nothing below can match
        return found
    n = optional(body, "n", int)
    if n is not None and n != 1:
        found["n"] = "more than one choice"
    if optional(body, "logprobs", bool) or optional(body, "top_logprobs", int):
        found["logprobs"] = "log probabilities"
    modalities = optional(body, "modalities", list)
    if modalities and any(m != "text" for m in modalities):
        found["modalities"] = "non-text output"
    for name, what in _SET_ONLY_HERE.items():
        if body.get(name) is not None:
            found[name] = what
    note_unknown(body, KNOWN, found)
    return found


def hints_present(body: dict) -> list[str]:
    """The DROPPED_HINTS fields this request has (reported as dropped, never sent)."""
    if body.keys() <= TRANSLATED:
        return []
    return [name for name in DROPPED_HINTS if name in body]
