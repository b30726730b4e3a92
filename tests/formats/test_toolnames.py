"""The one tool-name shortener every path uses (codecs, ChatGPT and Claude subscriptions)."""

from __future__ import annotations

import re

from router.formats.toolnames import MAX_TOOL_NAME, shorten_tool_name

ACCEPTED = re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]{0,63}")


def test_a_trailing_newline_is_not_a_valid_name() -> None:
    short = shorten_tool_name("get_weather\n")
    assert short != "get_weather\n"
    assert ACCEPTED.fullmatch(short)


def test_a_leading_digit_gets_an_underscore() -> None:
    short = shorten_tool_name("3d_render")
    assert short.startswith("_3d_render_")
    assert ACCEPTED.fullmatch(short)


def test_attempts_give_distinct_candidates_for_a_valid_name() -> None:
    candidates = {shorten_tool_name("get_weather", "proxy_", attempt) for attempt in range(4)}
    assert len(candidates) == 4
    assert "proxy_get_weather" in candidates
    assert all(ACCEPTED.fullmatch(c) and len(c) <= MAX_TOOL_NAME for c in candidates)
