"""Config sections for routing rules and sticky sessions (issue 15).

A rule is a set of conditions (``when``, all must hold) and a target ``model`` that then
resolves through the model table like any name a client sends; ``set`` may cap
``max-tokens`` or set the reasoning effort. Rules are tried in order; the first that
matches decides. router/routing/rules.py evaluates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from router.config.binder import Problems, check_positive, join

CLIENT_FORMATS = ("openai-chat", "openai-responses", "anthropic", "gemini")
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
# Claude Code's small/fast model (ANTHROPIC_SMALL_FAST_MODEL), used for its background
# work (titles, summaries, quota checks): a Haiku, whichever generation is configured.
BACKGROUND_MODELS = "claude-3-5-haiku*,claude-haiku-*,claude-3-haiku*"


@dataclass(frozen=True)
class RuleConditions:
    """What a request must be for a rule to apply; unset conditions are not checked."""

    # Estimated input tokens (offline count) strictly above this.
    tokens_above: int | None = None
    # true: reasoning/thinking was asked for (any effort but none, or a budget > 0).
    thinking: bool | None = None
    # true: the request offers tools; false: it offers none.
    tools: bool | None = None
    # A tool offered by name or type, as a glob: "web_search*", "mcp__github__*".
    tool: str | None = None
    images: bool | None = None
    # The API the client spoke: openai-chat, openai-responses, anthropic, gemini.
    format: str | None = None
    # The client key's name (api-keys[].name or an issued key's name), as a glob.
    client_key: str | None = None
    # Header name -> glob its value must match (names are case-insensitive).
    headers: dict[str, str] = field(default_factory=dict)
    # The model the client asked for: exact, glob, or re:regex.
    model: str | None = None
    # true: Claude Code's background requests: its small/fast model (a Haiku) with no tools.
    background: bool | None = None

    def check(self, path: str, problems: Problems) -> None:
        if self.tokens_above is not None and self.tokens_above < 0:
            problems.add(join(path, "tokens-above"), "expected an integer >= 0")
        if self.format is not None and self.format not in CLIENT_FORMATS:
            problems.add(join(path, "format"), f"expected one of {', '.join(CLIENT_FORMATS)}")
        if self.model is not None and self.model.startswith("re:"):
            try:
                re.compile(self.model[3:])
            except re.error as exc:
                problems.add(join(path, "model"), f"invalid regular expression: {exc}")


@dataclass(frozen=True)
class RuleOverrides:
    """Request parameters a rule changes (applied to the decoded request)."""

    # Lower the request's max tokens to this (or set it when the request has none).
    max_tokens: int | None = None
    # none, minimal, low, medium, high or xhigh.
    reasoning_effort: str | None = None

    def check(self, path: str, problems: Problems) -> None:
        if self.max_tokens is not None and self.max_tokens < 1:
            problems.add(join(path, "max-tokens"), "expected an integer >= 1")
        if self.reasoning_effort is not None and self.reasoning_effort not in EFFORTS:
            problems.add(join(path, "reasoning-effort"), f"expected one of {', '.join(EFFORTS)}")

    def any(self) -> bool:
        return self.max_tokens is not None or self.reasoning_effort is not None


@dataclass(frozen=True)
class RuleConfig:
    """When a request is ``when``, send it to ``model`` (with ``set`` applied)."""

    name: str
    model: str
    when: RuleConditions = field(default_factory=RuleConditions)
    set: RuleOverrides = field(default_factory=RuleOverrides)

    def check(self, path: str, problems: Problems) -> None:
        if not self.name:
            problems.add(join(path, "name"), "expected a non-empty name (it is logged as rule=)")
        if not self.model:
            problems.add(join(path, "model"), "expected the model name to send matches to")


@dataclass(frozen=True)
class StickyConfig:
    """Keep a conversation on the credential that answered it last (prompt caches)."""

    enabled: bool = True
    # Conversations remembered; the least recently used is forgotten first.
    max_sessions: int = 10000
    # Seconds a conversation is remembered after its last request.
    ttl: float = 3600.0

    def check(self, path: str, problems: Problems) -> None:
        if self.max_sessions < 1:
            problems.add(join(path, "max-sessions"), "expected an integer >= 1")
        check_positive({"ttl": self.ttl}, path, problems)


def check_rule_names(rules: tuple[RuleConfig, ...], path: str, problems: Problems) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            problems.add(path, f"duplicate rule name {rule.name!r}")
        seen.add(rule.name)
