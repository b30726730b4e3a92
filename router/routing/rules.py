"""Routing rules: what a request is decides which model serves it (config ``routing.rules``).

Rules are tried in order before the model table; the first whose conditions all hold
names the model to resolve instead of the client's (the usual routes, model lists and
failover then apply) and may change parameters on the decoded request.

The policy is data: ``CHECKS`` maps each condition (a ``RuleConditions`` field) to the
test that decides it, cheapest first, so the conditions that need the decoded request
(tools, images, thinking, the token estimate) are only reached when the cheap ones
(format, model, client key, headers, tools) already hold. The decode is the request's own
(``RequestFacts.decode``, the CallBuilder's lazy IR): a request no rule looks into is
never decoded and keeps the passthrough path byte for byte.

Claude Code's background requests (titles, summaries, quota probes) use its small/fast
model, a Haiku (``ANTHROPIC_SMALL_FAST_MODEL``), and offer no tools: ``background: true``
matches exactly that, so a Haiku request from the main loop (which has tools) does not.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from router.config.rules import BACKGROUND_MODELS, RuleConditions, RuleConfig, RuleOverrides
from router.config.schema import compile_model_pattern
from router.errors import ProxyError
from router.formats import Format, Request
from router.formats.codec import effort_to_budget
from router.formats.errors import FormatError
from router.formats.ir import (
    ImagePart,
    Part,
    Reasoning,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from router.formats.tokens import IMAGE_TOKENS, MESSAGE_OVERHEAD, TOOL_OVERHEAD, estimate_tokens


@functools.lru_cache(maxsize=512)
def _pattern(pattern: str) -> re.Pattern[str]:
    return compile_model_pattern(pattern)


@functools.lru_cache(maxsize=512)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


_BACKGROUND = tuple(_pattern(p) for p in BACKGROUND_MODELS.split(","))
# What any format's images are decoded from: OpenAI's image_url parts, Anthropic's image
# blocks, Gemini's inline and file data (either spelling).
_IMAGE_MARKERS = re.compile(rb'"(?:image_url|image|inlineData|inline_data|fileData|file_data)"')
# The top-level fields each format's reasoning is decoded from.
_REASONING_KEYS = {
    Format.OPENAI_CHAT: ("reasoning_effort",),
    Format.OPENAI_RESPONSES: ("reasoning",),
    Format.ANTHROPIC: ("thinking", "output_config"),
    Format.GEMINI: ("generationConfig", "generation_config"),
}
_OBJECT_CEILING = max(IMAGE_TOKENS, MESSAGE_OVERHEAD, TOOL_OVERHEAD)


class RequestFacts:
    """What rules look at. The decoded request and its token estimate are computed at
    most once per request, and only when a condition needs them."""

    def __init__(
        self,
        client_format: Format,
        model: str,
        body: Mapping[str, Any],
        decode: Callable[[], Request],
        *,
        headers: Mapping[str, str] | None = None,
        client_key: str | None = None,
        raw: bytes = b"",
    ) -> None:
        """``raw``: the body's bytes, when there are any; conditions that can tell from
        them that they do not hold skip the decode."""
        self.client_format = client_format
        self.model = model
        self.body = body
        self.headers = headers or {}
        self.client_key = client_key
        self.raw = raw
        self._decode = decode
        self._tokens: int | None = None
        self._tool_names: frozenset[str] | None = None
        self._lowered_headers: dict[str, str] | None = None
        self._undecodable = False
        self._plain: bool | None = None

    def header(self, name: str) -> str:
        """A request header's value by name in any case (``""`` when absent)."""
        if isinstance(self.headers, CIMultiDictProxy | CIMultiDict):
            return self.headers.get(name, "")  # already case-insensitive: no copy
        if self._lowered_headers is None:
            self._lowered_headers = {k.lower(): v for k, v in self.headers.items()}
        return self._lowered_headers.get(name.lower(), "")

    def _raw_is_plain(self) -> bool:
        """Whether every key in ``raw`` is written as plain text (no ``\\u`` escape could
        spell one), so a key missing from the bytes is missing from the request."""
        if self._plain is None:
            self._plain = bool(self.raw) and b"\\u" not in self.raw
        return self._plain

    def may_have_images(self) -> bool:
        """False when no key or type any format's images are decoded from is in the body."""
        return not self._raw_is_plain() or _IMAGE_MARKERS.search(self.raw) is not None

    def may_think(self) -> bool:
        """False when none of the fields the format's reasoning is decoded from is set."""
        return any(key in self.body for key in _REASONING_KEYS[self.client_format])

    def _raw_token_ceiling(self) -> int | None:
        """An upper bound of the token estimate from the bytes alone (None: unknown).

        Every text the estimate counts is a JSON string of the body (or a re-encoding of
        one, at most 3 bytes per byte), a token is at least one byte, and each message,
        tool or image is an object of its own, counted at the largest flat overhead.
        """
        if not self._raw_is_plain():
            return None
        return 3 * len(self.raw) + _OBJECT_CEILING * (self.raw.count(b"{") + 1)

    def ir(self) -> Request | None:
        """The decoded request; None when it cannot be decoded (conditions on it then do
        not hold, and the request goes on as if no rule had looked: passthrough may serve
        what translation could not)."""
        if self._undecodable:
            return None
        try:
            return self._decode()
        except (FormatError, ProxyError):
            self._undecodable = True
            return None

    def tokens(self) -> int:
        if self._tokens is None:
            request = self.ir()
            self._tokens = estimate_tokens(request) if request is not None else 0
        return self._tokens

    def tokens_above(self, threshold: int) -> bool:
        """Whether the estimate exceeds ``threshold``; the tokenizer (milliseconds for a
        long conversation) runs only when the request's size says it might."""
        if self._tokens is None:
            if 3 * len(self.raw) + _OBJECT_CEILING <= threshold:
                ceiling = self._raw_token_ceiling()
                if ceiling is not None and ceiling <= threshold:
                    return False
            request = self.ir()
            if request is None or _token_ceiling(request) <= threshold:
                return False
        return self.tokens() > threshold

    def tool_names(self) -> frozenset[str]:
        """Names and types of the tools offered, hosted ones (web search) included, read
        from the body itself (no decode; decoders refuse some hosted tools)."""
        if self._tool_names is None:
            raw = self.body.get("tools")
            names: set[str] = set()
            for entry in raw if isinstance(raw, list) else ():
                if isinstance(entry, dict):
                    _collect_tool_names(entry, names, self.client_format == Format.GEMINI)
            self._tool_names = frozenset(names)
        return self._tool_names


def _text_ceiling(text: str) -> int:
    """Tokens ``text`` can be at most, joined to others: a token is at least one byte."""
    return (len(text) if text.isascii() else len(text.encode())) + 1


def _part_ceiling(part: Part) -> int:
    match part:
        case TextPart() | ReasoningPart():
            return _text_ceiling(part.text)
        case ToolCallPart():
            return _text_ceiling(part.name) + _text_ceiling(part.arguments)
        case ToolResultPart():
            return sum(
                _text_ceiling(item.text) if isinstance(item, TextPart) else IMAGE_TOKENS
                for item in part.content
            )
        case ImagePart():
            return IMAGE_TOKENS
    return 0


def _token_ceiling(request: Request) -> int:
    """An upper bound of ``estimate_tokens(request)``, without tokenizing."""
    total = sum(_text_ceiling(text) for text in request.system)
    for message in request.messages:
        total += MESSAGE_OVERHEAD + sum(_part_ceiling(part) for part in message.parts)
    for tool in request.tools:
        total += TOOL_OVERHEAD + _text_ceiling(tool.name) + _text_ceiling(tool.description or "")
        total += _text_ceiling(json.dumps(tool.parameters, separators=(",", ":")))
    return total


def _collect_tool_names(entry: dict[str, Any], names: set[str], gemini: bool) -> None:
    """A tool entry of any format: its name and type, an OpenAI Chat function's name,
    Responses namespace members, Gemini declarations and hosted tool keys."""
    for key in ("name", "type"):
        if isinstance(value := entry.get(key), str):
            names.add(value)
    function = entry.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        names.add(function["name"])
    for nested_key in ("tools", "functionDeclarations", "function_declarations"):
        nested = entry.get(nested_key)
        for item in nested if isinstance(nested, list) else ():
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.add(item["name"])
    if gemini:  # hosted tools are keys: {"googleSearch": {}}
        names.update(k for k in entry if k not in ("functionDeclarations", "function_declarations"))


def _has_images(facts: RequestFacts) -> bool:
    if not facts.may_have_images():
        return False
    request = facts.ir()
    for message in request.messages if request is not None else ():
        for part in message.parts:
            if isinstance(part, ImagePart):
                return True
            if isinstance(part, ToolResultPart) and any(
                isinstance(item, ImagePart) for item in part.content
            ):
                return True
    return False


def _thinking(facts: RequestFacts) -> bool:
    if not facts.may_think():
        return False
    request = facts.ir()
    reasoning = request.reasoning if request is not None else None
    if reasoning is None:
        return False
    return reasoning.effort not in (None, "none") or bool(reasoning.budget and reasoning.budget > 0)


def _background(facts: RequestFacts) -> bool:
    return any(p.fullmatch(facts.model) for p in _BACKGROUND) and not facts.tool_names()


Check = Callable[[Any, RequestFacts], bool]
Matcher = Callable[[str], object]


def _headers_match(wanted: tuple[tuple[str, Matcher], ...], facts: RequestFacts) -> bool:
    return all(match(facts.header(name)) is not None for name, match in wanted)


def _same(want: Any) -> Any:
    return want


# Condition -> what its configured value is compiled to once per config, and its test,
# cheapest first (images, thinking and tokens decode the request).
CHECKS: tuple[tuple[str, Callable[[Any], Any], Check], ...] = (
    ("format", _same, lambda want, f: f.client_format == want),
    ("model", lambda w: _pattern(w).fullmatch, lambda match, f: match(f.model) is not None),
    (
        "client_key",
        lambda w: _glob(w).fullmatch,
        lambda match, f: match(f.client_key or "") is not None,
    ),
    ("headers", lambda w: tuple((n, _glob(p).fullmatch) for n, p in w.items()), _headers_match),
    ("background", _same, lambda want, f: _background(f) == want),
    ("tools", _same, lambda want, f: bool(f.tool_names()) == want),
    ("tool", lambda w: _glob(w).fullmatch, lambda match, f: any(map(match, f.tool_names()))),
    ("images", _same, lambda want, f: _has_images(f) == want),
    ("thinking", _same, lambda want, f: _thinking(f) == want),
    ("tokens_above", _same, lambda want, f: f.tokens_above(want)),
)
_FORMAT_CHECK = CHECKS[0][2]
_UNSET = {f.name: f.default for f in dataclasses.fields(RuleConditions)}
_UNSET["headers"] = {}


def _active(conditions: RuleConditions) -> tuple[tuple[Check, Any], ...]:
    """The checks a rule's conditions set, in CHECKS order, with their values compiled."""
    return tuple(
        (check, compile_value(getattr(conditions, name)))
        for name, compile_value, check in CHECKS
        if getattr(conditions, name) != _UNSET[name]
    )


@dataclass(frozen=True)
class Decision:
    """The rule that matched, the model to resolve, and what it changes."""

    rule: str
    model: str
    overrides: RuleOverrides


class Rules:
    """The configured rules, compiled once per config."""

    def __init__(self, rules: Sequence[RuleConfig]) -> None:
        self._rules = [(rule, _active(rule.when)) for rule in rules]
        # Per client format, the rules its format does not rule out, that check dropped:
        # most rules name a format or none, so a request skips the others outright.
        self._by_format = {
            fmt: [
                (rule, tuple(c for c in checks if c[0] is not _FORMAT_CHECK))
                for rule, checks in self._rules
                if rule.when.format is None or rule.when.format == fmt
            ]
            for fmt in Format
        }

    def __bool__(self) -> bool:
        return bool(self._rules)

    def targets(self) -> list[str]:
        """Every model a rule can send requests to (for model lists)."""
        return [rule.model for rule, _ in self._rules]

    def decide(self, facts: RequestFacts) -> Decision | None:
        for rule, checks in self._by_format[facts.client_format]:
            for check, want in checks:
                if not check(want, facts):
                    break
            else:
                return Decision(rule.name, rule.model, rule.set)
        return None


def apply_overrides(request: Request, overrides: RuleOverrides) -> Request:
    """The request with a rule's parameters: max tokens capped, reasoning effort set."""
    changes: dict[str, Any] = {}
    cap = overrides.max_tokens
    if cap is not None:
        changes["max_tokens"] = min(request.max_tokens, cap) if request.max_tokens else cap
    effort = overrides.reasoning_effort
    if effort is not None:
        include = request.reasoning.include_thoughts if request.reasoning else None
        changes["reasoning"] = Reasoning(
            effort=effort, budget=effort_to_budget(effort), include_thoughts=include
        )
    return dataclasses.replace(request, **changes) if changes else request
