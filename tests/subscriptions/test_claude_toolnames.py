"""Tool-name mapping and request rewriting on the Claude OAuth path (pure functions)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.formats.toolnames import shorten_tool_name
from router.subscriptions.claude.request import (
    InvalidRequestBody,
    merge_betas,
    rewrite_body,
    with_claude_code_system,
)
from router.subscriptions.claude.toolnames import ToolNameMap, map_tool_names

VALID_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
PROMPT = "You are Claude Code, Anthropic's official CLI for Claude."


def tool(name: str, **extra: object) -> dict:
    return {"name": name, "description": "d", "input_schema": {"type": "object"}, **extra}


def test_short_names_get_the_prefix() -> None:
    assert shorten_tool_name("get_weather", "proxy_") == "proxy_get_weather"
    assert shorten_tool_name("get_weather", "") == "get_weather"


def test_long_names_are_shortened_deterministically_with_a_hash() -> None:
    name = "mcp__filesystem__" + "read_multiple_files_with_a_very_long_descriptive_name"
    first = shorten_tool_name(name, "proxy_")
    assert first == shorten_tool_name(name, "proxy_")
    assert len(first) == 64
    assert VALID_NAME.fullmatch(first)
    assert first.startswith("proxy_mcp__filesystem__read")
    other = shorten_tool_name(name + "x", "proxy_")
    assert other != first and len(other) == 64


def test_invalid_characters_are_replaced_and_hashed() -> None:
    name = shorten_tool_name("server.tool/read", "proxy_")
    assert VALID_NAME.fullmatch(name)
    assert name.startswith("proxy_server_tool_read_")
    assert name != shorten_tool_name("server_tool_read", "proxy_")


@given(st.text(min_size=0, max_size=200), st.sampled_from(["", "proxy_", "p-", "x" * 40]))
def test_every_upstream_name_is_valid(name: str, prefix: str) -> None:
    assert VALID_NAME.fullmatch(shorten_tool_name(name, prefix))


@given(st.lists(st.text(min_size=1, max_size=120), min_size=1, max_size=12, unique=True))
def test_the_map_is_injective_and_restores_exactly(names: list[str]) -> None:
    mapping = ToolNameMap("proxy_")
    upstream = [mapping.outbound(n) for n in names]
    assert len(set(upstream)) == len(names)
    assert [mapping.restore(u) for u in upstream] == names
    assert [mapping.outbound(n) for n in names] == upstream


def test_a_collision_with_a_hashed_name_picks_another_candidate() -> None:
    long_name = "a" * 80
    hashed = shorten_tool_name(long_name, "proxy_")
    literal = hashed.removeprefix("proxy_")
    mapping = ToolNameMap("proxy_")
    first = mapping.outbound(long_name)
    assert first == hashed
    second = mapping.outbound(literal)
    assert second != first
    assert mapping.restore(first) == long_name
    assert mapping.restore(second) == literal


def test_unknown_names_restore_unchanged() -> None:
    mapping = ToolNameMap("proxy_")
    mapping.outbound("read")
    assert mapping.restore("proxy_write") == "proxy_write"
    assert mapping.restore("web_search") == "web_search"


def test_map_covers_tools_choice_and_history_consistently() -> None:
    body = {
        "tools": [
            tool("read_file"),
            tool("grep", type="custom"),
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        ],
        "tool_choice": {"type": "tool", "name": "read_file"},
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "reading"},
                    {"type": "tool_use", "id": "t1", "name": "read_file", "input": {}},
                    {"type": "tool_use", "id": "t2", "name": "grep", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "x"},
                    {"type": "tool_result", "tool_use_id": "t2", "content": "y"},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "t3", "name": "read_file", "input": {}},
                    {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {}},
                ],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t3"}]},
        ],
    }
    names = map_tool_names(body, "proxy_")
    assert [t["name"] for t in body["tools"]] == ["proxy_read_file", "proxy_grep", "web_search"]
    assert body["tool_choice"]["name"] == "proxy_read_file"
    history = [b["name"] for m in body["messages"][1::2] for b in m["content"] if "name" in b]
    assert history == ["proxy_read_file", "proxy_grep", "proxy_read_file", "web_search"]
    assert names.renames
    assert names.restore("proxy_grep") == "grep"


def test_history_tool_use_of_a_server_tool_keeps_its_name() -> None:
    body = {
        "tools": [{"type": "bash_20250124", "name": "bash"}, tool("edit")],
        "tool_choice": {"type": "tool", "name": "bash"},
        "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "name": "bash", "id": "a"}]}
        ],
    }
    names = map_tool_names(body, "proxy_")
    assert body["tool_choice"]["name"] == "bash"
    assert body["messages"][0]["content"][0]["name"] == "bash"
    assert names.restore("bash") == "bash"


def test_a_client_tool_never_takes_a_server_tool_name() -> None:
    body = {"tools": [{"type": "web_search_20250305", "name": "proxy_x"}, tool("x")]}
    names = map_tool_names(body, "proxy_")
    assert body["tools"][1]["name"] != "proxy_x"
    assert names.restore(body["tools"][1]["name"]) == "x"
    assert names.restore("proxy_x") == "proxy_x"


def test_no_tools_means_nothing_to_restore() -> None:
    assert not map_tool_names({"messages": [{"role": "user", "content": "hi"}]}, "proxy_").renames
    assert not map_tool_names({"tools": [tool("short")]}, "").renames
    assert map_tool_names({"tools": [tool("n" * 70)]}, "").renames


def test_betas_merge_configured_first_without_duplicates() -> None:
    configured = ("oauth-2025-04-20", "claude-code-20250219")
    client = {"Anthropic-Beta": "prompt-caching-2024-07-31, oauth-2025-04-20,context-1m"}
    assert merge_betas(configured, client) == (
        "oauth-2025-04-20,claude-code-20250219,prompt-caching-2024-07-31,context-1m"
    )
    assert merge_betas(configured, {}) == "oauth-2025-04-20,claude-code-20250219"
    assert merge_betas(configured, {"anthropic-beta": ""}) == (
        "oauth-2025-04-20,claude-code-20250219"
    )


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        (None, [{"type": "text", "text": PROMPT}]),
        ("", [{"type": "text", "text": PROMPT}]),
        ("Be brief.", [{"type": "text", "text": PROMPT}, {"type": "text", "text": "Be brief."}]),
        (PROMPT, [{"type": "text", "text": PROMPT}]),
        (
            [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
            [
                {"type": "text", "text": PROMPT},
                {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
            ],
        ),
        (
            [
                {"type": "text", "text": PROMPT, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "More."},
            ],
            [
                {"type": "text", "text": PROMPT, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "More."},
            ],
        ),
        (
            [{"type": "text", "text": PROMPT + " And more."}],
            [{"type": "text", "text": PROMPT}, {"type": "text", "text": PROMPT + " And more."}],
        ),
    ],
)
def test_claude_code_system_block_comes_first(system: object, expected: list) -> None:
    assert with_claude_code_system(system, PROMPT) == expected


def test_rewrite_body_applies_system_and_names() -> None:
    raw = json.dumps(
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 10,
            "system": "Be brief.",
            "tools": [tool("get_weather")],
            "messages": [{"role": "user", "content": "héllo"}],
        },
        ensure_ascii=False,
    ).encode()
    out, names = rewrite_body(raw, PROMPT, "proxy_")
    body = json.loads(out)
    assert body["system"][0] == {"type": "text", "text": PROMPT}
    assert body["tools"][0]["name"] == "proxy_get_weather"
    assert body["messages"][0]["content"] == "héllo"
    assert names.restore("proxy_get_weather") == "get_weather"


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]"])
def test_rewrite_body_rejects_what_is_not_an_object(raw: bytes) -> None:
    with pytest.raises(InvalidRequestBody):
        rewrite_body(raw, PROMPT, "proxy_")
