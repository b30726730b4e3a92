"""A rich valid body per generation endpoint: every known field present, so the fuzz
suite's mutations reach each of them (top level and nested)."""

from __future__ import annotations

from typing import Any

TOOLS_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city"],
}


def templates(model: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """A rich valid body per endpoint: every known field, so mutations reach them all."""
    chat = {
        "model": model,
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        "tools": [
            {"type": "function", "function": {"name": "weather", "parameters": TOOLS_SCHEMA}}
        ],
        "tool_choice": "auto",
        "temperature": 0.5,
        "max_tokens": 32,
        "stop": ["END"],
        "stream": False,
        "response_format": {"type": "text"},
    }
    responses = {
        "model": model,
        "instructions": "be brief",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ],
        "tools": [{"type": "function", "name": "weather", "parameters": TOOLS_SCHEMA}],
        "max_output_tokens": 32,
        "reasoning": {"effort": "low"},
        "text": {"format": {"type": "text"}},
        "stream": False,
    }
    messages = {
        "model": model,
        "max_tokens": 32,
        "system": [{"type": "text", "text": "be brief"}],
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "tu_1", "name": "weather", "input": {}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "sunny"}],
            },
        ],
        "tools": [{"name": "weather", "input_schema": TOOLS_SCHEMA}],
        "tool_choice": {"type": "auto"},
        "temperature": 0.5,
        "stop_sequences": ["END"],
        "stream": False,
    }
    gemini = {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {}}}]},
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "weather", "response": {"r": 1}}}],
            },
        ],
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "tools": [{"functionDeclarations": [{"name": "weather", "parameters": TOOLS_SCHEMA}]}],
        "generationConfig": {"temperature": 0.5, "maxOutputTokens": 32, "stopSequences": ["E"]},
    }
    count = {k: messages[k] for k in ("model", "messages", "system", "tools")}
    return {
        "chat": ("/v1/chat/completions", chat),
        "responses": ("/v1/responses", responses),
        "messages": ("/v1/messages", messages),
        "count": ("/v1/messages/count_tokens", count),
        "gemini": (f"/v1beta/models/{model}:generateContent", gemini),
        "gemini-stream": (f"/v1beta/models/{model}:streamGenerateContent", gemini),
        "gemini-count": (f"/v1beta/models/{model}:countTokens", gemini),
        "gemini-v1": (f"/v1/models/{model}:generateContent", gemini),
    }
