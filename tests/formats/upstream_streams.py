"""Realistic upstream SSE streams: reasoning, then text "Hello world", then a
get_weather({"city":"Paris"}) call; 10 prompt tokens (4 cached), 5 output tokens."""

from __future__ import annotations

from fmt_helpers import sse_bytes

from router.formats.ir import Format

CHAT_STREAM = sse_bytes(
    [
        (
            None,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-up",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            },
        ),
        (
            None,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-up",
                "choices": [
                    {"index": 0, "delta": {"reasoning_content": "think"}, "finish_reason": None}
                ],
            },
        ),
        (
            None,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-up",
                "choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}],
            },
        ),
        (
            None,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-up",
                "choices": [{"index": 0, "delta": {"content": " world"}, "finish_reason": None}],
            },
        ),
        (
            None,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-up",
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "call_9",
                                    "type": "function",
                                    "function": {"name": "get_weather", "arguments": ""},
                                }
                            ]
                        },
                        "finish_reason": None,
                    }
                ],
            },
        ),
        (
            None,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-up",
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]
                        },
                        "finish_reason": None,
                    }
                ],
            },
        ),
        (
            None,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-up",
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]
                        },
                        "finish_reason": None,
                    }
                ],
            },
        ),
        (
            None,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-up",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
            },
        ),
        (
            None,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-up",
                "choices": [],
                "usage": {
                    "prompt_tokens": 10,
                    "completion_tokens": 5,
                    "total_tokens": 15,
                    "prompt_tokens_details": {"cached_tokens": 4},
                    "completion_tokens_details": {"reasoning_tokens": 2},
                },
            },
        ),
        (None, "[DONE]"),
    ]
)

ANTHROPIC_STREAM = sse_bytes(
    [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_up",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-up",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": 6,
                        "cache_read_input_tokens": 4,
                        "cache_creation_input_tokens": 0,
                        "output_tokens": 1,
                    },
                },
            },
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "think"},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "signature_delta", "signature": "ANTHSIG"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "text_delta", "text": "Hello"},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "text_delta", "text": " world"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 2,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_9",
                    "name": "get_weather",
                    "input": {},
                },
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 2,
                "delta": {"type": "input_json_delta", "partial_json": '{"city":'},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 2,
                "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 2}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 5},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
)

_R = {
    "id": "resp_up",
    "object": "response",
    "created_at": 1,
    "status": "in_progress",
    "model": "gpt-up",
    "output": [],
}
RESPONSES_STREAM = sse_bytes(
    [
        ("response.created", {"type": "response.created", "sequence_number": 0, "response": _R}),
        (
            "response.in_progress",
            {"type": "response.in_progress", "sequence_number": 1, "response": _R},
        ),
        (
            "response.output_item.added",
            {
                "type": "response.output_item.added",
                "sequence_number": 2,
                "output_index": 0,
                "item": {"id": "rs_1", "type": "reasoning", "summary": []},
            },
        ),
        (
            "response.reasoning_summary_part.added",
            {
                "type": "response.reasoning_summary_part.added",
                "sequence_number": 3,
                "item_id": "rs_1",
                "output_index": 0,
                "summary_index": 0,
                "part": {"type": "summary_text", "text": ""},
            },
        ),
        (
            "response.reasoning_summary_text.delta",
            {
                "type": "response.reasoning_summary_text.delta",
                "sequence_number": 4,
                "item_id": "rs_1",
                "output_index": 0,
                "summary_index": 0,
                "delta": "think",
            },
        ),
        (
            "response.output_item.done",
            {
                "type": "response.output_item.done",
                "sequence_number": 5,
                "output_index": 0,
                "item": {
                    "id": "rs_1",
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": "think"}],
                    "encrypted_content": "ENC",
                },
            },
        ),
        (
            "response.output_item.added",
            {
                "type": "response.output_item.added",
                "sequence_number": 6,
                "output_index": 1,
                "item": {
                    "id": "msg_1",
                    "type": "message",
                    "status": "in_progress",
                    "role": "assistant",
                    "content": [],
                },
            },
        ),
        (
            "response.content_part.added",
            {
                "type": "response.content_part.added",
                "sequence_number": 7,
                "item_id": "msg_1",
                "output_index": 1,
                "content_index": 0,
                "part": {"type": "output_text", "text": "", "annotations": []},
            },
        ),
        (
            "response.output_text.delta",
            {
                "type": "response.output_text.delta",
                "sequence_number": 8,
                "item_id": "msg_1",
                "output_index": 1,
                "content_index": 0,
                "delta": "Hello",
            },
        ),
        (
            "response.output_text.delta",
            {
                "type": "response.output_text.delta",
                "sequence_number": 9,
                "item_id": "msg_1",
                "output_index": 1,
                "content_index": 0,
                "delta": " world",
            },
        ),
        (
            "response.output_text.done",
            {
                "type": "response.output_text.done",
                "sequence_number": 10,
                "item_id": "msg_1",
                "output_index": 1,
                "content_index": 0,
                "text": "Hello world",
            },
        ),
        (
            "response.content_part.done",
            {
                "type": "response.content_part.done",
                "sequence_number": 11,
                "item_id": "msg_1",
                "output_index": 1,
                "content_index": 0,
                "part": {"type": "output_text", "text": "Hello world", "annotations": []},
            },
        ),
        (
            "response.output_item.done",
            {
                "type": "response.output_item.done",
                "sequence_number": 12,
                "output_index": 1,
                "item": {
                    "id": "msg_1",
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "Hello world", "annotations": []}],
                },
            },
        ),
        (
            "response.output_item.added",
            {
                "type": "response.output_item.added",
                "sequence_number": 13,
                "output_index": 2,
                "item": {
                    "id": "fc_1",
                    "type": "function_call",
                    "status": "in_progress",
                    "call_id": "call_9",
                    "name": "get_weather",
                    "arguments": "",
                },
            },
        ),
        (
            "response.function_call_arguments.delta",
            {
                "type": "response.function_call_arguments.delta",
                "sequence_number": 14,
                "item_id": "fc_1",
                "output_index": 2,
                "delta": '{"city":',
            },
        ),
        (
            "response.function_call_arguments.delta",
            {
                "type": "response.function_call_arguments.delta",
                "sequence_number": 15,
                "item_id": "fc_1",
                "output_index": 2,
                "delta": '"Paris"}',
            },
        ),
        (
            "response.function_call_arguments.done",
            {
                "type": "response.function_call_arguments.done",
                "sequence_number": 16,
                "item_id": "fc_1",
                "output_index": 2,
                "arguments": '{"city":"Paris"}',
            },
        ),
        (
            "response.output_item.done",
            {
                "type": "response.output_item.done",
                "sequence_number": 17,
                "output_index": 2,
                "item": {
                    "id": "fc_1",
                    "type": "function_call",
                    "status": "completed",
                    "call_id": "call_9",
                    "name": "get_weather",
                    "arguments": '{"city":"Paris"}',
                },
            },
        ),
        (
            "response.completed",
            {
                "type": "response.completed",
                "sequence_number": 18,
                "response": {
                    **_R,
                    "status": "completed",
                    "usage": {
                        "input_tokens": 10,
                        "input_tokens_details": {"cached_tokens": 4},
                        "output_tokens": 5,
                        "output_tokens_details": {"reasoning_tokens": 2},
                        "total_tokens": 15,
                    },
                },
            },
        ),
    ]
)

GEMINI_STREAM = sse_bytes(
    [
        (
            None,
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": "think", "thought": True}]},
                        "index": 0,
                    }
                ],
                "modelVersion": "gemini-up",
                "responseId": "gem-1",
            },
        ),
        (
            None,
            {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [{"text": "Hello", "thoughtSignature": "GSIG"}],
                        },
                        "index": 0,
                    }
                ],
                "modelVersion": "gemini-up",
                "responseId": "gem-1",
            },
        ),
        (
            None,
            {
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": " world"}]}, "index": 0}
                ],
                "modelVersion": "gemini-up",
                "responseId": "gem-1",
            },
        ),
        (
            None,
            {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [
                                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}
                            ],
                        },
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": 10,
                    "candidatesTokenCount": 3,
                    "thoughtsTokenCount": 2,
                    "cachedContentTokenCount": 4,
                    "totalTokenCount": 15,
                },
                "modelVersion": "gemini-up",
                "responseId": "gem-1",
            },
        ),
    ]
)

UPSTREAM_STREAMS = {
    Format.OPENAI_CHAT: CHAT_STREAM,
    Format.ANTHROPIC: ANTHROPIC_STREAM,
    Format.OPENAI_RESPONSES: RESPONSES_STREAM,
    Format.GEMINI: GEMINI_STREAM,
}
