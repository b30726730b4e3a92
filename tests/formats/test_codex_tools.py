"""Codex's tool shapes to upstreams without them (issue #12): free-form (`custom`) tools
such as apply_patch become a function with one string argument, `input`, and their
calls come back as custom_tool_call items carrying the raw input; `namespace` groups
(MCP servers) are flattened to functions named namespace + name, and their calls come
back with the namespace and name split again."""

from __future__ import annotations

import json

import pytest
from fmt_helpers import ctx, parse_sse, sse_bytes, translate_stream

from router.formats import Format, UnsupportedFeature, get_codec

RESP = get_codec(Format.OPENAI_RESPONSES)
PATCH = '*** Begin Patch\n*** Add File: a.txt\n+hello "world"\n*** End Patch\n'
APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Use the apply_patch tool to edit files.",
    "format": {"type": "grammar", "syntax": "lark", "definition": 'start: "*** Begin Patch"'},
}


def codex_request(**fields: object) -> dict:
    return {
        "model": "m",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]},
            {
                "type": "custom_tool_call",
                "call_id": "call_1",
                "name": "apply_patch",
                "input": PATCH,
            },
            {"type": "custom_tool_call_output", "call_id": "call_1", "output": "Done!"},
        ],
        "tools": [APPLY_PATCH],
        **fields,
    }


def test_custom_tool_becomes_a_function_with_one_string_argument() -> None:
    req = RESP.decode_request(codex_request())
    (tool,) = req.tools
    assert tool.freeform and tool.name == "apply_patch"
    assert tool.parameters["properties"]["input"]["type"] == "string"
    assert tool.parameters["required"] == ["input"]
    assert "Use the apply_patch tool" in (tool.description or "")
    assert 'start: "*** Begin Patch"' in (tool.description or "")
    body = get_codec(Format.OPENAI_CHAT).encode_request(req, ctx())
    assert body["tools"][0]["function"]["name"] == "apply_patch"
    call = body["messages"][1]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"input": PATCH}
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": "Done!"}
    anthropic = get_codec(Format.ANTHROPIC).encode_request(req, ctx())
    assert anthropic["messages"][1]["content"][0]["input"] == {"input": PATCH}
    gemini = get_codec(Format.GEMINI).encode_request(req, ctx())
    declaration = gemini["tools"][0]["functionDeclarations"][0]
    assert declaration["parameters"]["properties"]["input"]["type"] == "string"


def test_whole_answer_calls_come_back_as_custom_tool_calls() -> None:
    c = ctx()
    get_codec(Format.OPENAI_CHAT).encode_request(RESP.decode_request(codex_request()), c)
    upstream = {
        "id": "chatcmpl-1",
        "model": "gpt",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_2",
                            "type": "function",
                            "function": {
                                "name": "apply_patch",
                                "arguments": json.dumps({"input": PATCH}),
                            },
                        }
                    ],
                },
            }
        ],
    }
    resp = get_codec(Format.OPENAI_CHAT).decode_response(upstream, c)
    (item,) = RESP.encode_response(resp, c)["output"]
    assert item["type"] == "custom_tool_call"
    assert (item["call_id"], item["name"], item["input"]) == ("call_2", "apply_patch", PATCH)


def test_streamed_calls_come_back_as_custom_tool_calls() -> None:
    c = ctx()
    get_codec(Format.ANTHROPIC).encode_request(RESP.decode_request(codex_request()), c)
    args = json.dumps({"input": PATCH})
    raw = sse_bytes(
        [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {"id": "msg_1", "model": "claude", "usage": {"input_tokens": 3}},
                },
            ),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "tool_use", "id": "toolu_1", "name": "apply_patch"},
                },
            ),
            *[
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "input_json_delta", "partial_json": args[i : i + 9]},
                    },
                )
                for i in range(0, len(args), 9)
            ],
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "tool_use"},
                    "usage": {"output_tokens": 9},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    )
    _, out = translate_stream(Format.ANTHROPIC, Format.OPENAI_RESPONSES, raw, c=c)
    events = parse_sse(out)
    names = [name for name, _ in events]
    assert "response.function_call_arguments.delta" not in names
    deltas = [d for n, d in events if n == "response.custom_tool_call_input.delta"]
    assert "".join(d["delta"] for d in deltas) == PATCH
    added = next(d for n, d in events if n == "response.output_item.added")
    assert added["item"]["type"] == "custom_tool_call"
    done = next(d for n, d in events if n == "response.output_item.done")
    assert done["item"]["input"] == PATCH
    completed = next(d for n, d in events if n == "response.completed")
    (item,) = completed["response"]["output"]
    assert (item["type"], item["call_id"], item["input"]) == ("custom_tool_call", "toolu_1", PATCH)


def test_function_tools_beside_a_custom_tool_stay_function_calls() -> None:
    c = ctx()
    body = codex_request(
        tools=[APPLY_PATCH, {"type": "function", "name": "shell", "parameters": {"type": "object"}}]
    )
    get_codec(Format.OPENAI_CHAT).encode_request(RESP.decode_request(body), c)
    assert c.freeform_tools == {"apply_patch"}


WEATHER = {
    "type": "namespace",
    "name": "mcp__weather__",
    "description": "Weather MCP tools.",
    "tools": [
        {
            "type": "function",
            "name": "get_forecast",
            "description": "Forecast for a city.",
            "strict": False,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ],
}


def namespaced_request(**fields: object) -> dict:
    return {
        "model": "m",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]},
            {
                "type": "function_call",
                "call_id": "call_1",
                "namespace": "mcp__weather__",
                "name": "get_forecast",
                "arguments": '{"city":"Bern"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
        ],
        "tools": [WEATHER, {"type": "function", "name": "shell", "parameters": {}}],
        **fields,
    }


def test_namespace_tools_are_flattened_for_other_upstreams() -> None:
    choice = {"type": "function", "namespace": "mcp__weather__", "name": "get_forecast"}
    req = RESP.decode_request(namespaced_request(tool_choice=choice))
    body = get_codec(Format.OPENAI_CHAT).encode_request(req, ctx())
    names = [t["function"]["name"] for t in body["tools"]]
    assert names == ["mcp__weather__get_forecast", "shell"]
    assert body["tools"][0]["function"]["description"] == "Forecast for a city."
    assert body["messages"][1]["tool_calls"][0]["function"]["name"] == "mcp__weather__get_forecast"
    assert body["tool_choice"] == {
        "type": "function",
        "function": {"name": "mcp__weather__get_forecast"},
    }


def test_namespace_without_trailing_underscores_is_joined_with_them() -> None:
    group = {**WEATHER, "name": "mcp__atlas"}
    req = RESP.decode_request(namespaced_request(tools=[group]))
    assert [t.name for t in req.tools] == ["mcp__atlas__get_forecast"]


def test_whole_answer_calls_get_their_namespace_back() -> None:
    c = ctx()
    get_codec(Format.ANTHROPIC).encode_request(RESP.decode_request(namespaced_request()), c)
    upstream = {
        "id": "msg_1",
        "model": "claude",
        "stop_reason": "tool_use",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_2",
                "name": "mcp__weather__get_forecast",
                "input": {"city": "Oslo"},
            },
            {"type": "tool_use", "id": "toolu_3", "name": "shell", "input": {}},
        ],
    }
    resp = get_codec(Format.ANTHROPIC).decode_response(upstream, c)
    forecast, shell = RESP.encode_response(resp, c)["output"]
    assert (forecast["namespace"], forecast["name"]) == ("mcp__weather__", "get_forecast")
    assert json.loads(forecast["arguments"]) == {"city": "Oslo"}
    assert shell["name"] == "shell" and "namespace" not in shell


def test_streamed_calls_get_their_namespace_back() -> None:
    c = ctx()
    get_codec(Format.GEMINI).encode_request(RESP.decode_request(namespaced_request()), c)
    call = {"name": "mcp__weather__get_forecast", "args": {"city": "Rome"}}
    raw = sse_bytes(
        [
            (
                None,
                {
                    "candidates": [
                        {
                            "content": {"role": "model", "parts": [{"functionCall": call}]},
                            "finishReason": "STOP",
                        }
                    ],
                    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2},
                },
            )
        ]
    )
    _, out = translate_stream(Format.GEMINI, Format.OPENAI_RESPONSES, raw, c=c)
    events = parse_sse(out)
    added = next(d for n, d in events if n == "response.output_item.added")
    assert (added["item"]["namespace"], added["item"]["name"]) == ("mcp__weather__", "get_forecast")
    completed = next(d for n, d in events if n == "response.completed")
    (item,) = completed["response"]["output"]
    assert (item["namespace"], item["name"]) == ("mcp__weather__", "get_forecast")
    assert json.loads(item["arguments"]) == {"city": "Rome"}


def codex_with_web_search(**fields: object) -> dict:
    """Codex offers the hosted web_search tool on every request."""
    tools = [{"type": "web_search"}, {"type": "function", "name": "shell", "parameters": {}}]
    return {"model": "m", "input": "hi", "tools": tools, **fields}


def with_file_search() -> dict:
    """A hosted tool no other format has an equivalent of."""
    tools = [
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        {"type": "function", "name": "shell", "parameters": {}},
    ]
    return {"model": "m", "input": "hi", "tools": tools}


@pytest.mark.parametrize("target", [Format.OPENAI_CHAT, Format.ANTHROPIC, Format.GEMINI])
def test_hosted_tool_is_dropped_and_named_for_other_upstreams(target: Format) -> None:
    c = ctx()
    body = get_codec(target).encode_request(RESP.decode_request(with_file_search()), c)
    assert "file_search" not in json.dumps(body) and "vs_1" not in json.dumps(body)
    assert "shell" in json.dumps(body)
    assert c.dropped == ["tools[0]"]


def test_hosted_tool_is_a_400_when_strict() -> None:
    c = ctx()
    c.strict = True
    with pytest.raises(UnsupportedFeature) as info:
        get_codec(Format.ANTHROPIC).encode_request(RESP.decode_request(with_file_search()), c)
    assert info.value.message.startswith("tools[0]: a tool hosted by the client's provider")


def test_a_forced_hosted_tool_stays_a_400() -> None:
    with pytest.raises(UnsupportedFeature, match="only function tool choices"):
        RESP.decode_request(codex_with_web_search(tool_choice={"type": "web_search"}))


def test_additional_tools_items_are_lifted_into_the_tool_list() -> None:
    """Codex with its own default models (Responses Lite) sends `tools: []` and offers its
    tools in an `additional_tools` input item (tests/clients/corpus/codex-lite)."""
    namespace = {
        "type": "namespace",
        "name": "clock",
        "description": "",
        "tools": [{"type": "function", "name": "sleep", "parameters": {"type": "object"}}],
    }
    offered = {
        "type": "additional_tools",
        "id": "at_1",
        "role": "developer",
        "tools": [APPLY_PATCH, namespace, {"type": "file_search"}],
    }
    body = codex_request(tools=[], tool_choice="auto")
    body["input"] = [offered, *body["input"]]
    req = RESP.decode_request(body)
    assert [tool.name for tool in req.tools] == ["apply_patch", "clock__sleep"]
    c = ctx()
    chat = get_codec(Format.OPENAI_CHAT).encode_request(req, c)
    assert [t["function"]["name"] for t in chat["tools"]] == ["apply_patch", "clock__sleep"]
    assert chat["tool_choice"] == "auto"
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant", "tool"]
    assert c.dropped == ["input[0].tools[2]"]
