"""Hosted web search goes to each upstream as its own search tool, or is dropped."""

from __future__ import annotations

import pytest

from router.formats import Format, get_codec
from router.formats.errors import UnsupportedFeature
from tests.formats.fmt_helpers import ctx

FUNCTION = {
    Format.OPENAI_RESPONSES: {"type": "function", "name": "shell", "parameters": {}},
    Format.ANTHROPIC: {"name": "shell", "input_schema": {"type": "object"}},
    Format.GEMINI: {"functionDeclarations": [{"name": "shell"}]},
}
WEB_SEARCH = {
    Format.OPENAI_RESPONSES: {"type": "web_search"},
    Format.ANTHROPIC: {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    Format.GEMINI: {"googleSearch": {}},
}
EXPECTED = {
    Format.OPENAI_RESPONSES: {"type": "web_search"},
    Format.ANTHROPIC: {"type": "web_search_20250305", "name": "web_search"},
    Format.GEMINI: {"googleSearch": {}},
}


def client_body(client: Format) -> dict:
    tools = [WEB_SEARCH[client], FUNCTION[client]]
    if client is Format.OPENAI_RESPONSES:
        return {"model": "m", "input": "hi", "tools": tools}
    if client is Format.ANTHROPIC:
        return {
            "model": "m",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}],
            "tools": tools,
        }
    return {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "tools": tools}


# same format is passthrough, never translated
PAIRS = [(client, target) for client in WEB_SEARCH for target in EXPECTED if client is not target]


@pytest.mark.parametrize(("client", "target"), PAIRS)
def test_web_search_becomes_the_targets_own(client: Format, target: Format) -> None:
    c = ctx()
    req = get_codec(client).decode_request(client_body(client))
    body = get_codec(target).encode_request(req, c)
    assert EXPECTED[target] in body["tools"]
    assert len(body["tools"]) == 2  # the function tool too
    assert c.dropped == []


@pytest.mark.parametrize("client", list(WEB_SEARCH))
def test_web_search_is_dropped_and_named_for_chat(client: Format) -> None:
    c = ctx()
    req = get_codec(client).decode_request(client_body(client))
    body = get_codec(Format.OPENAI_CHAT).encode_request(req, c)
    assert [t["function"]["name"] for t in body["tools"]] == ["shell"]
    assert c.dropped == ["tools[0]"]
    c = ctx()
    c.strict = True
    with pytest.raises(UnsupportedFeature, match="tools\\[0\\]: a tool hosted"):
        get_codec(Format.OPENAI_CHAT).encode_request(req, c)


def test_anthropic_upstreams_own_search_blocks_stay_upstream() -> None:
    """Once a client's web search reaches Anthropic, its answer carries the search."""
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            {"type": "text", "text": "It is sunny."},
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    c = ctx()
    resp = get_codec(Format.ANTHROPIC).decode_response(body, c)
    chat = get_codec(Format.OPENAI_CHAT).encode_response(resp, c)
    assert chat["choices"][0]["message"]["content"] == "It is sunny."
