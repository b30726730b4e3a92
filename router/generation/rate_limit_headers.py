"""Upstream rate-limit headers for the client: copied when the client speaks the
upstream's API family, renamed where the other family has an equivalent.

OpenAI sends ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` (reset as a
duration such as ``6m0s``); Anthropic ``anthropic-ratelimit-{requests,tokens,...}-
{limit,remaining,reset}`` (reset as an RFC 3339 time). Gemini sends none and has no
names for them. ``retry-after`` means the same everywhere and always passes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from aiohttp import web

from router.formats import Format

_OPENAI_PREFIX = "x-ratelimit-"
_ANTHROPIC_PREFIX = "anthropic-ratelimit-"
_FAMILY = {
    Format.OPENAI_CHAT: "openai",
    Format.OPENAI_RESPONSES: "openai",
    Format.ANTHROPIC: "anthropic",
    Format.GEMINI: "gemini",
}
_PREFIX = {"openai": _OPENAI_PREFIX, "anthropic": _ANTHROPIC_PREFIX}
_ANY_PREFIX = (_OPENAI_PREFIX, _ANTHROPIC_PREFIX)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_FIELDS = ("limit", "remaining", "reset")
_KINDS = ("requests", "tokens")


def rate_limit_headers(
    upstream: Mapping[str, str], upstream_format: Format, client_format: Format
) -> dict[str, str]:
    found = {
        name: value
        for key, value in upstream.items()
        if (name := key.lower()).startswith(_ANY_PREFIX) or name == "retry-after"
    }
    if not found:  # most answers: nothing to copy or map
        return {}
    source, target = _FAMILY[upstream_format], _FAMILY[client_format]
    out = {"retry-after": found["retry-after"]} if "retry-after" in found else {}
    if source == target and source in _PREFIX:
        out.update({k: v for k, v in found.items() if k.startswith(_PREFIX[source])})
    elif (source, target) == ("anthropic", "openai"):
        out.update(_anthropic_to_openai(found))
    elif (source, target) == ("openai", "anthropic"):
        out.update(_openai_to_anthropic(found))
    return out


def with_headers(response: web.Response, headers: Mapping[str, str]) -> web.Response:
    if headers:  # most answers have none: skip the multidict's update
        response.headers.update(headers)
    return response


def _anthropic_to_openai(found: Mapping[str, str]) -> dict[str, str]:
    return _renamed(found, _anthropic_name, _openai_name, _openai_reset)


def _openai_to_anthropic(found: Mapping[str, str]) -> dict[str, str]:
    return _renamed(found, _openai_name, _anthropic_name, _anthropic_reset)


def _renamed(
    found: Mapping[str, str],
    source: Callable[[str, str], str],
    target: Callable[[str, str], str],
    reset: Callable[[str], str | None],
) -> dict[str, str]:
    """Each (kind, field) header ``source`` names, under the name ``target`` gives it; a
    reset time rewritten by ``reset`` (dropped when it cannot be read)."""
    out = {}
    for kind in _KINDS:
        for field in _FIELDS:
            value = found.get(source(kind, field))
            if value is not None and field == "reset":
                value = reset(value)
            if value is not None:
                out[target(kind, field)] = value
    return out


def _anthropic_name(kind: str, field: str) -> str:
    return f"{_ANTHROPIC_PREFIX}{kind}-{field}"


def _openai_name(kind: str, field: str) -> str:
    return f"{_OPENAI_PREFIX}{field}-{kind}"


def _openai_reset(stamp: str) -> str | None:
    """Anthropic's reset moment as OpenAI's duration from now (``1.5s``)."""
    seconds = _seconds_until(stamp)
    if seconds is None:
        return None
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


def _anthropic_reset(duration: str) -> str | None:
    """OpenAI's reset duration as Anthropic's RFC 3339 moment."""
    seconds = _duration(duration)
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(round(time.time() + seconds), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(text: str) -> float | None:
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def _seconds_until(stamp: str) -> float | None:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(round(moment.timestamp() - time.time(), 3), 0.0)
