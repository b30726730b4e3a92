"""Codex tool names: shortened on the way out, restored exactly in JSON text."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from router.subscriptions.chatgpt.toolnames import ToolNames, shorten_request_names

LONG = "mcp__filesystem_server__read_a_file_with_a_very_long_descriptive_name_indeed"
LONG_2 = "mcp__filesystem_server__read_a_file_with_a_very_long_descriptive_name_as_well"


def request_with(*names: str) -> dict:
    return {
        "model": "gpt-5",
        "tools": [{"type": "function", "name": n, "parameters": {}} for n in names]
        + [{"type": "web_search"}],
        "tool_choice": {"type": "function", "name": names[0]},
        "input": [
            {"type": "message", "role": "user", "content": "hi"},
            {"type": "function_call", "call_id": "c1", "name": names[0], "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "ok"},
        ],
    }


def test_long_names_shortened_everywhere_and_short_ones_kept() -> None:
    body = request_with(LONG, "short_tool")
    names = shorten_request_names(body)
    assert names
    short = body["tools"][0]["name"]
    assert len(short) <= 64
    assert short != LONG
    assert body["tools"][1]["name"] == "short_tool"
    assert body["tool_choice"]["name"] == short
    assert body["input"][1]["name"] == short
    answer = json.dumps({"name": short, "other": "short_tool"})
    assert json.loads(names.restore_text(answer)) == {"name": LONG, "other": "short_tool"}


def test_two_long_names_sharing_a_prefix_get_distinct_short_names() -> None:
    body = request_with(LONG, LONG_2)
    names = shorten_request_names(body)
    first, second = (t["name"] for t in body["tools"][:2])
    assert first != second
    restored = names.restore_text(json.dumps([first, second]))
    assert json.loads(restored) == [LONG, LONG_2]


def test_same_long_name_in_a_later_turn_gets_the_same_short_name() -> None:
    one, two = request_with(LONG), request_with(LONG)
    shorten_request_names(one)
    shorten_request_names(two)
    assert one["tools"][0]["name"] == two["tools"][0]["name"]


def test_allowed_tools_choice_is_shortened() -> None:
    body = {
        "tools": [{"type": "function", "name": LONG}],
        "tool_choice": {
            "type": "allowed_tools",
            "mode": "auto",
            "tools": [{"type": "function", "name": LONG}],
        },
    }
    shorten_request_names(body)
    assert body["tool_choice"]["tools"][0]["name"] == body["tools"][0]["name"] != LONG


def test_nothing_to_shorten_leaves_body_and_map_empty() -> None:
    body = request_with("get_weather")
    before = json.dumps(body)
    names = shorten_request_names(body)
    assert not names
    assert json.dumps(body) == before


def test_restore_text_replaces_whole_values_only() -> None:
    names = ToolNames()
    short = names.shorten(LONG)
    event = {
        "type": "response.output_item.done",
        "item": {"type": "function_call", "name": short, "arguments": json.dumps({"q": short})},
        "text": f"the tool {short} was called",
    }
    restored = json.loads(names.restore_text(json.dumps(event, separators=(",", ":"))))
    assert restored["item"]["name"] == LONG
    assert json.loads(restored["item"]["arguments"]) == {"q": short}
    assert restored["text"] == f"the tool {short} was called"


@given(st.text(min_size=65, max_size=200))
def test_any_long_name_round_trips(name: str) -> None:
    names = ToolNames()
    short = names.shorten(name)
    assert len(short) <= 64
    payload = json.dumps({"name": short, "output": [{"name": short}]})
    assert json.loads(names.restore_text(payload)) == {"name": name, "output": [{"name": name}]}
