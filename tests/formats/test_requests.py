"""Golden request translations: client body -> IR -> upstream body, exact structures."""

from __future__ import annotations

import pytest
from fmt_helpers import ctx

from router.formats import Format, FormatError, UnsupportedFeature, get_codec
from router.formats.toolnames import shorten_tool_name

CHAT = get_codec(Format.OPENAI_CHAT)
RESP = get_codec(Format.OPENAI_RESPONSES)
ANTH = get_codec(Format.ANTHROPIC)
GEM = get_codec(Format.GEMINI)

WEATHER_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {
            "anyOf": [{"type": "string", "enum": ["c", "f"]}, {"type": "null"}],
            "default": "c",
        },
    },
    "required": ["city"],
    "additionalProperties": False,
}

CHAT_REQUEST = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Paris? See map."},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_a1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_b2",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"tz":"CET"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_a1", "content": "18C cloudy"},
        {"role": "tool", "tool_call_id": "call_b2", "content": "14:02"},
        {"role": "user", "content": "Thanks. Summarise."},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather",
                "parameters": WEATHER_SCHEMA,
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
            },
        },
    ],
    "tool_choice": "required",
    "parallel_tool_calls": False,
    "max_tokens": 500,
    "temperature": 0.2,
    "stop": ["END"],
    "stream": True,
}


def test_chat_to_anthropic_full_conversation() -> None:
    req = CHAT.decode_request(CHAT_REQUEST)
    body = ANTH.encode_request(req, ctx())
    assert body == {
        "model": "gpt-4o",
        "max_tokens": 500,
        "system": "You are terse.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather in Paris? See map."},
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": "image/png",
                            "data": "iVBORw0KGgo=",
                        },
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "call_a1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                    {
                        "type": "tool_use",
                        "id": "call_b2",
                        "name": "get_time",
                        "input": {"tz": "CET"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "call_a1", "content": "18C cloudy"},
                    {"type": "tool_result", "tool_use_id": "call_b2", "content": "14:02"},
                    {"type": "text", "text": "Thanks. Summarise."},
                ],
            },
        ],
        "tools": [
            {"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA},
            {
                "name": "get_time",
                "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}},
            },
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "temperature": 0.2,
        "stop_sequences": ["END"],
        "stream": True,
    }


def test_chat_to_gemini_cleans_schema_and_names_results() -> None:
    req = CHAT.decode_request(CHAT_REQUEST)
    body = GEM.encode_request(req, ctx())
    assert body["systemInstruction"] == {"parts": [{"text": "You are terse."}]}
    assert body["contents"] == [
        {
            "role": "user",
            "parts": [
                {"text": "Weather in Paris? See map."},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            ],
        },
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                    "thoughtSignature": "skip_thought_signature_validator",
                },
                {"functionCall": {"name": "get_time", "args": {"tz": "CET"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"result": "18C cloudy"}}},
                {"functionResponse": {"name": "get_time", "response": {"result": "14:02"}}},
                {"text": "Thanks. Summarise."},
            ],
        },
    ]
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "city": {"type": "string", "description": "City name"},
                            "unit": {"type": "string", "enum": ["c", "f"], "nullable": True},
                        },
                        "required": ["city"],
                    },
                },
                {
                    "name": "get_time",
                    "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
                },
            ]
        }
    ]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "maxOutputTokens": 500,
        "stopSequences": ["END"],
    }
    assert "model" not in body


def test_chat_to_responses() -> None:
    req = CHAT.decode_request(CHAT_REQUEST | {"stop": None})
    body = RESP.encode_request(req, ctx())
    assert body["instructions"] == "You are terse."
    assert body["input"] == [
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Weather in Paris? See map."},
                {
                    "type": "input_image",
                    "image_url": "data:image/png;base64,iVBORw0KGgo=",
                    "detail": "auto",
                },
            ],
        },
        {
            "type": "function_call",
            "call_id": "call_a1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {
            "type": "function_call",
            "call_id": "call_b2",
            "name": "get_time",
            "arguments": '{"tz":"CET"}',
        },
        {"type": "function_call_output", "call_id": "call_a1", "output": "18C cloudy"},
        {"type": "function_call_output", "call_id": "call_b2", "output": "14:02"},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Thanks. Summarise."}],
        },
    ]
    assert body["tools"][0] == {
        "type": "function",
        "name": "get_weather",
        "description": "Weather",
        "parameters": WEATHER_SCHEMA,
        "strict": False,
    }
    assert body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is False
    assert body["max_output_tokens"] == 500
    assert body["stream"] is True


ANTHROPIC_REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "system": [
        {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Be precise."},
    ],
    "thinking": {"type": "enabled", "budget_tokens": 16384},
    "messages": [
        {"role": "user", "content": "List files"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I should call ls.", "signature": "EqQBsig=="},
                {"type": "redacted_thinking", "data": "REDACTED=="},
                {"type": "text", "text": "Listing."},
                {"type": "tool_use", "id": "toolu_01A", "name": "Bash", "input": {"command": "ls"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A",
                    "is_error": True,
                    "content": [
                        {"type": "text", "text": "ls: permission denied"},
                        {"type": "text", "text": "exit 2"},
                    ],
                }
            ],
        },
    ],
    "tools": [
        {
            "name": "Bash",
            "description": "Run",
            "input_schema": {
                "type": "object",
                "properties": {"command": {"type": "string"}},
                "required": ["command"],
            },
        }
    ],
    "tool_choice": {"type": "tool", "name": "Bash"},
    "stream": True,
}


def test_anthropic_roundtrip_keeps_signatures_and_errors() -> None:
    # Anthropic rejects a forced tool with thinking on: this golden case uses auto.
    req = ANTH.decode_request({**ANTHROPIC_REQUEST, "tool_choice": {"type": "auto"}})
    body = ANTH.encode_request(req, ctx())
    assert body["system"] == [
        {"type": "text", "text": "You are Claude Code."},
        {"type": "text", "text": "Be precise."},
    ]
    assert body["messages"][1]["content"][:2] == [
        {"type": "thinking", "thinking": "I should call ls.", "signature": "EqQBsig=="},
        {"type": "redacted_thinking", "data": "REDACTED=="},
    ]
    assert body["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_01A",
            "content": [
                {"type": "text", "text": "ls: permission denied"},
                {"type": "text", "text": "exit 2"},
            ],
            "is_error": True,
        }
    ]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 16384}
    assert body["max_tokens"] == 16384 + 1024
    assert body["tool_choice"] == {"type": "auto"}


def test_forced_tool_with_thinking_to_anthropic_is_a_400() -> None:
    req = ANTH.decode_request(ANTHROPIC_REQUEST)
    with pytest.raises(
        UnsupportedFeature, match=r"^tool_choice: a forced tool call while thinking"
    ):
        ANTH.encode_request(req, ctx())


def test_anthropic_to_chat_drops_foreign_thinking_and_maps_budget() -> None:
    req = ANTH.decode_request(ANTHROPIC_REQUEST)
    body = CHAT.encode_request(req, ctx())
    assert body["messages"][0] == {
        "role": "system",
        "content": [
            {"type": "text", "text": "You are Claude Code."},
            {"type": "text", "text": "Be precise."},
        ],
    }
    assert body["messages"][2] == {
        "role": "assistant",
        "content": "Listing.",
        "tool_calls": [
            {
                "id": "toolu_01A",
                "type": "function",
                "function": {"name": "Bash", "arguments": '{"command":"ls"}'},
            }
        ],
    }
    assert body["messages"][3] == {
        "role": "tool",
        "tool_call_id": "toolu_01A",
        "content": [
            {"type": "text", "text": "Error: ls: permission denied"},
            {"type": "text", "text": "exit 2"},
        ],
    }
    assert body["reasoning_effort"] == "high"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Bash"}}
    assert body["stream_options"] == {"include_usage": True}


def test_anthropic_to_gemini_thinking_budget_and_error_result() -> None:
    req = ANTH.decode_request(ANTHROPIC_REQUEST)
    body = GEM.encode_request(req, ctx())
    assert body["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 16384,
        "includeThoughts": True,
    }
    assert body["contents"][1] == {
        "role": "model",
        "parts": [
            {"text": "Listing."},
            {
                "functionCall": {"name": "Bash", "args": {"command": "ls"}},
                "thoughtSignature": "skip_thought_signature_validator",
            },
        ],
    }
    assert body["contents"][2]["parts"] == [
        {
            "functionResponse": {
                "name": "Bash",
                "response": {"error": "ls: permission denied\nexit 2"},
            }
        }
    ]
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["Bash"]}
    }


def test_long_tool_names_and_bad_call_ids_are_rewritten_and_restored() -> None:
    long_name = "mcp__some_server__" + "very_long_tool_name_" * 4
    c = ctx()
    req = CHAT.decode_request(
        {
            "model": "m",
            "messages": [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "functions.run:0",
                            "type": "function",
                            "function": {"name": long_name, "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "functions.run:0", "content": "ok"},
            ],
            "tools": [{"type": "function", "function": {"name": long_name, "parameters": {}}}],
        }
    )
    body = ANTH.encode_request(req, c)
    short = body["tools"][0]["name"]
    assert short == shorten_tool_name(long_name)
    assert len(short) <= 64 and short != long_name
    call = body["messages"][1]["content"][0]
    assert call["name"] == short
    assert call["id"] != "functions.run:0"
    assert body["messages"][2]["content"][0]["tool_use_id"] == call["id"]
    upstream = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [{"type": "tool_use", "id": call["id"], "name": short, "input": {}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    resp = ANTH.decode_response(upstream, c)
    assert resp.parts[0].name == long_name
    assert resp.parts[0].id == "functions.run:0"


def test_gemini_request_ids_are_synthesized_and_matched_by_name() -> None:
    req = GEM.decode_request(
        {
            "contents": [
                {"role": "user", "parts": [{"text": "Go"}]},
                {
                    "role": "model",
                    "parts": [
                        {
                            "functionCall": {"name": "a", "args": {"x": 1}},
                            "thoughtSignature": "gsig",
                        },
                        {"functionCall": {"name": "b", "args": {}}},
                    ],
                },
                {
                    "role": "user",
                    "parts": [
                        {"functionResponse": {"name": "b", "response": {"result": "B"}}},
                        {"functionResponse": {"name": "a", "response": {"temp": 3}}},
                    ],
                },
            ],
            "generationConfig": {
                "thinkingConfig": {"thinkingBudget": 4096, "includeThoughts": True}
            },
        }
    )
    calls = req.messages[1].parts
    assert [type(p).__name__ for p in calls] == ["ReasoningPart", "ToolCallPart", "ToolCallPart"]
    results = req.messages[2].parts
    assert results[0].call_id == calls[2].id and results[1].call_id == calls[1].id
    to_anthropic = ctx()
    body = ANTH.encode_request(req, to_anthropic)
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": calls[1].id, "name": "a", "input": {"x": 1}},
        {"type": "tool_use", "id": calls[2].id, "name": "b", "input": {}},
    ]
    assert body["messages"][2]["content"][1]["content"] == '{"temp":3}'
    # Gemini's signature cannot become Anthropic thinking, and Anthropic refuses a tool
    # turn without it while thinking is on: this request goes without thinking, named.
    assert "thinking" not in body and to_anthropic.dropped == ["reasoning"]
    back = GEM.encode_request(req, ctx())
    assert back["contents"][1]["parts"][0] == {
        "functionCall": {"name": "a", "args": {"x": 1}},
        "thoughtSignature": "gsig",
    }
    assert back["contents"][2]["parts"][1] == {
        "functionResponse": {"name": "a", "response": {"temp": 3}}
    }


def test_responses_request_with_reasoning_items_to_responses_and_anthropic() -> None:
    body = {
        "model": "gpt-5",
        "instructions": "Be helpful.",
        "input": [
            {"role": "user", "content": "hi"},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "thinking"}],
                "encrypted_content": "gAAAenc",
            },
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "done"},
        ],
        "reasoning": {"effort": "low", "summary": "auto"},
        "text": {
            "format": {
                "type": "json_schema",
                "name": "out",
                "schema": {"type": "object"},
                "strict": True,
            }
        },
        "max_output_tokens": 100,
    }
    req = RESP.decode_request(body)
    same = RESP.encode_request(req, ctx())
    assert same["input"][1] == {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "thinking"}],
        "encrypted_content": "gAAAenc",
    }
    assert same["reasoning"] == {"effort": "low", "summary": "auto"}
    assert same["text"] == body["text"]
    gem = GEM.encode_request(req, ctx())
    assert gem["generationConfig"]["responseMimeType"] == "application/json"
    assert gem["generationConfig"]["responseSchema"] == {"type": "object"}
    assert gem["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 4096,
        "includeThoughts": True,
    }
    assert gem["contents"][1] == {
        "role": "model",
        "parts": [
            {
                "functionCall": {"name": "f", "args": {}},
                "thoughtSignature": "skip_thought_signature_validator",
            }
        ],
    }
    to_anthropic = ctx()
    anth = ANTH.encode_request(req, to_anthropic)
    assert anth["output_config"] == {
        "format": {"type": "json_schema", "schema": {"type": "object"}}
    }
    assert "thinking" not in anth and to_anthropic.dropped == ["reasoning"]


def test_json_object_to_anthropic_becomes_instruction() -> None:
    req = CHAT.decode_request(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_object"},
        }
    )
    body = ANTH.encode_request(req, ctx())
    assert body["system"].startswith("Respond only with a single valid JSON object")
    assert body["max_tokens"] == 8192


@pytest.mark.parametrize(
    ("codec", "body", "message"),
    [
        (CHAT, {"model": "m", "messages": "hi"}, "messages: expected array"),
        (CHAT, {"messages": []}, "model: field is required"),
        (
            CHAT,
            {"model": "m", "messages": [{"role": "wizard", "content": "x"}]},
            r"messages\[0\].role",
        ),
        (
            CHAT,
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "video"}]}]},
            r"content\[0\].type",
        ),
        (
            ANTH,
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "bogus"}]}]},
            "unknown content block",
        ),
        (RESP, {"model": "m", "input": 5}, "input: expected string or array"),
        (GEM, {"contents": [{"role": "user", "parts": [{"weird": 1}]}]}, "unknown part kind"),
        (CHAT, {"model": "m", "messages": [], "temperature": "hot"}, "temperature: expected"),
    ],
)
def test_garbage_input_names_the_field(codec, body, message) -> None:
    with pytest.raises(FormatError, match=message):
        codec.decode_request(body)


@pytest.mark.parametrize(
    ("codec", "body", "message"),
    [
        (CHAT, {"model": "m", "messages": [], "tools": [{"type": "custom"}]}, "custom"),
        (GEM, {"contents": [], "tools": [{"codeExecution": {}}]}, "functionDeclarations"),
    ],
)
def test_unsupported_client_features(codec, body, message) -> None:
    with pytest.raises(UnsupportedFeature, match=message):
        codec.decode_request(body)


def test_image_url_to_gemini_is_unsupported_not_fetched() -> None:
    req = CHAT.decode_request(
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}
                    ],
                }
            ],
        }
    )
    with pytest.raises(UnsupportedFeature, match="image URLs cannot be sent to Gemini"):
        GEM.encode_request(req, ctx())
    assert ANTH.encode_request(req, ctx())["messages"][0]["content"][0] == {
        "type": "image",
        "source": {"type": "url", "url": "https://x.test/a.png"},
    }


def test_stop_to_responses_is_unsupported() -> None:
    req = CHAT.decode_request(
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": "X"}
    )
    with pytest.raises(UnsupportedFeature, match="stop"):
        RESP.encode_request(req, ctx())


def test_responses_upstream_stores_nothing_and_gets_only_encrypted_reasoning_back() -> None:
    """store=false: a reasoning item without its encrypted content would only name a
    stored item (a 404 upstream), so it is left out; encrypted reasoning is asked for only
    when reasoning is on (models that do not reason reject the include)."""
    plain = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    body = RESP.encode_request(CHAT.decode_request(plain), ctx())
    assert body["store"] is False
    assert "include" not in body
    history = {
        "model": "m",
        "input": [
            {"role": "user", "content": "hi"},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "t"}]},
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "done"},
        ],
        "reasoning": {"effort": "low"},
    }
    through_ir = RESP.encode_request(RESP.decode_request(history), ctx())
    assert [item.get("type", "message") for item in through_ir["input"]] == [
        "message",
        "function_call",
        "function_call_output",
    ]
    assert through_ir["include"] == ["reasoning.encrypted_content"]
