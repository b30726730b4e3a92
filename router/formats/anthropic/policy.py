"""Field policy of Anthropic Messages requests: what translation does with each
top-level field (see router/formats/features.py). Block-level `cache_control` and the
`citations` of earlier assistant text are dropped too: prompt caching is Anthropic's
own, and citations annotate text the target still receives."""

from __future__ import annotations

from router.formats.codec import optional
from router.formats.features import note_unknown

TRANSLATED = frozenset(
    {
        "model", "messages", "max_tokens", "system", "stop_sequences", "stream",
        "temperature", "top_p", "top_k", "thinking", "tool_choice", "tools", "metadata",
        "output_config",
    }
)  # fmt: skip
DROPPED_HINTS = {
    "service_tier": "the Anthropic account's capacity tier",
    "speed": "Anthropic's fast inference mode",
    "cache_control": "Anthropic prompt caching (also dropped on every block)",
    "diagnostics": "prompt-cache diagnostics in Anthropic's answer",
    "context_management": "server-side context editing; the target receives the whole "
    "conversation instead",
}
# Accepted when empty only: they need something only Anthropic provides.
EMPTY_ONLY = {
    "container": "an Anthropic code container",
    "mcp_servers": "remote MCP servers",
    "inference_geo": "a data-residency region for inference",
}
KNOWN = TRANSLATED | frozenset(DROPPED_HINTS) | frozenset(EMPTY_ONLY)


def untranslatable(body: dict) -> dict[str, str]:
    """Client fields no other format can express, with what each asks for."""
    found = {name: what for name, what in EMPTY_ONLY.items() if body.get(name)}
    metadata = optional(body, "metadata", dict)
    if metadata:
        note_unknown(metadata, frozenset({"user_id"}), found, "metadata.")
    output_config = optional(body, "output_config", dict)
    if output_config:
        note_unknown(output_config, frozenset({"effort", "format"}), found, "output_config.")
    note_unknown(body, KNOWN, found)
    return found


def hints_present(body: dict) -> list[str]:
    """The DROPPED_HINTS fields this request has (reported as dropped, never sent)."""
    return [name for name in DROPPED_HINTS if name in body]
