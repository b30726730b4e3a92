"""A client's earlier web searches in its history reach other upstreams as visible text,
and the client's fields that changed are named in `dropped`."""

from __future__ import annotations

import json

import pytest

from router.formats import Format, get_codec
from tests.formats.fmt_helpers import ctx

ANTHROPIC_HISTORY = {
    "model": "m",
    "max_tokens": 100,
    "tools": [{"type": "web_search_20250305", "name": "web_search"}],
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_1",
                    "name": "web_search",
                    "input": {"query": "paris weather today"},
                },
                {
                    "type": "web_search_tool_result",
                    "tool_use_id": "srvtoolu_1",
                    "content": [
                        {
                            "type": "web_search_result",
                            "url": "https://weather.example/paris",
                            "title": "Paris forecast",
                            "encrypted_content": "EncRypted",
                            "page_age": "1 hour ago",
                        }
                    ],
                },
                {"type": "text", "text": "18C and cloudy."},
            ],
        },
        {"role": "user", "content": "And tomorrow?"},
    ],
}
RESPONSES_HISTORY = {
    "model": "m",
    "tools": [{"type": "web_search"}],
    "input": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {
                "type": "search",
                "query": "paris weather today",
                "sources": [{"type": "url", "url": "https://weather.example/paris"}],
            },
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "18C and cloudy."}],
        },
        {"role": "user", "content": "And tomorrow?"},
    ],
}
CASES = [
    (Format.ANTHROPIC, ANTHROPIC_HISTORY, ["messages[1].content[0]", "messages[1].content[1]"]),
    (Format.OPENAI_RESPONSES, RESPONSES_HISTORY, ["input[1]"]),
]
TARGETS = [Format.OPENAI_CHAT, Format.OPENAI_RESPONSES, Format.ANTHROPIC, Format.GEMINI]


@pytest.mark.parametrize(("client", "body", "names"), CASES, ids=["anthropic", "responses"])
@pytest.mark.parametrize("target", TARGETS, ids=lambda f: f.value)
def test_replayed_search_is_text_upstream_and_named(
    client: Format, body: dict, names: list[str], target: Format
) -> None:
    c = ctx()
    sent = get_codec(target).encode_request(get_codec(client).decode_request(body), c)
    text = json.dumps(sent)
    assert "paris weather today" in text
    assert "https://weather.example/paris" in text
    assert "EncRypted" not in text  # only the upstream that issued it can read it
    assert "18C and cloudy." in text
    assert all(name in c.dropped for name in names)


def test_a_failed_search_says_so() -> None:
    body = json.loads(json.dumps(ANTHROPIC_HISTORY))
    result = body["messages"][1]["content"][1]
    result["content"] = {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}
    sent = get_codec(Format.OPENAI_CHAT).encode_request(
        get_codec(Format.ANTHROPIC).decode_request(body), ctx()
    )
    assistant = sent["messages"][1]["content"]
    assert "[web search failed: max_uses_exceeded]" in json.dumps(assistant)
