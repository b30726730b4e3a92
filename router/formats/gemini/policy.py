"""Field policy of Gemini generateContent requests: what translation does with each
top-level and generationConfig field (see router/formats/features.py)."""

from __future__ import annotations

from router.formats.codec import optional
from router.formats.features import note_unknown

TRANSLATED = frozenset(
    {
        "model", "contents", "systemInstruction", "tools", "toolConfig", "generationConfig",
        "safetySettings",
    }
)  # fmt: skip
DROPPED_HINTS = {
    "labels": "billing labels",
    "serviceTier": "the Google account's processing tier",
    "store": "whether Google keeps the exchange",
    "generationConfig.mediaResolution": "an input image resolution hint",
    "toolConfig.retrievalConfig": "a location for grounding tools, which translation rejects",
    "functionDeclarations[].response": "a description of the function's result",
    "functionDeclarations[].responseJsonSchema": "a description of the function's result",
}
KNOWN = TRANSLATED | frozenset({"labels", "serviceTier", "store", "cachedContent"})
GEN_KNOWN = frozenset(
    {
        "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
        "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed",
        "presencePenalty", "frequencyPenalty", "thinkingConfig", "responseLogprobs",
        "logprobs", "responseModalities", "enableEnhancedCivicAnswers", "speechConfig",
        "imageConfig", "audioTimestamp", "mediaResolution",
    }
)  # fmt: skip
DECLARATION_FIELDS = frozenset(
    {"name", "description", "parameters", "parametersJsonSchema", "response", "responseJsonSchema"}
)
TOOL_CONFIG_FIELDS = frozenset({"functionCallingConfig", "retrievalConfig"})
CALLING_CONFIG_FIELDS = frozenset({"mode", "allowedFunctionNames"})
# Safety thresholds that ask for no more filtering than any upstream applies anyway.
_PERMISSIVE_THRESHOLDS = frozenset({"BLOCK_NONE", "OFF", "HARM_BLOCK_THRESHOLD_UNSPECIFIED"})
JSON_MIME = "application/json"
_GEN = "generationConfig."
_GEN_OUTPUTS = (("speechConfig", "speech output"), ("imageConfig", "image output"))


def untranslatable(body: dict, gen: dict) -> dict[str, str]:
    """Client fields no other format can express, with what each asks for."""
    found: dict[str, str] = {}
    if body.get("cachedContent") is not None:
        found["cachedContent"] = "content cached upstream"
    _safety_settings(optional(body, "safetySettings", list) or [], found)
    _generation_config(gen, found)
    note_unknown(gen, GEN_KNOWN, found, _GEN)
    note_unknown(body, KNOWN, found)
    return found


def _safety_settings(settings: list, found: dict[str, str]) -> None:
    for i, setting in enumerate(settings):
        threshold = setting.get("threshold") if isinstance(setting, dict) else None
        if threshold not in _PERMISSIVE_THRESHOLDS:
            found[f"safetySettings[{i}]"] = (
                f"content blocking at threshold {threshold!r} (other upstreams apply their "
                "own fixed policy; only BLOCK_NONE or OFF can be translated)"
            )


def _generation_config(gen: dict, found: dict[str, str]) -> None:
    candidates = optional(gen, "candidateCount", int, _GEN)
    if candidates is not None and candidates != 1:
        found[_GEN + "candidateCount"] = "more than one candidate"
    if optional(gen, "responseLogprobs", bool, _GEN) or gen.get("logprobs") is not None:
        found[_GEN + "responseLogprobs"] = "log probabilities"
    modalities = optional(gen, "responseModalities", list, _GEN)
    if modalities and any(str(m).upper() != "TEXT" for m in modalities):
        found[_GEN + "responseModalities"] = "non-text output"
    for name, what in _GEN_OUTPUTS:
        if gen.get(name) is not None:
            found[_GEN + name] = what
    if gen.get("enableEnhancedCivicAnswers"):
        found[_GEN + "enableEnhancedCivicAnswers"] = "Gemini's enhanced civic answers"
    if gen.get("audioTimestamp"):
        found[_GEN + "audioTimestamp"] = "audio timestamps"
    mime = optional(gen, "responseMimeType", str, _GEN)
    if mime not in (None, "text/plain", JSON_MIME):
        found[_GEN + "responseMimeType"] = f"output of MIME type {mime!r}"


def hints_present(body: dict, gen: dict) -> list[str]:
    """The DROPPED_HINTS fields this request has (reported as dropped, never sent)."""
    found = [name for name in ("labels", "serviceTier", "store") if name in body]
    if "mediaResolution" in gen:
        found.append(_GEN + "mediaResolution")
    tool_config = body.get("toolConfig")
    if isinstance(tool_config, dict) and {"retrievalConfig", "retrieval_config"} & set(tool_config):
        found.append("toolConfig.retrievalConfig")
    return found
