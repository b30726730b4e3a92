"""OpenAI Chat Completions response objects and SSE framing built by the service."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

OWNER = "webai"
SSE_DONE = b"data: [DONE]\n\n"


def new_completion_id() -> str:
    return f"chatcmpl-{secrets.token_hex(12)}"


def chat_completion(
    completion_id: str, model: str, text: str, finish_reason: str, usage: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage,
    }


def chat_completion_chunk(
    completion_id: str,
    created: int,
    model: str,
    delta: dict[str, Any],
    finish_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def model_list(model_names: Iterable[str]) -> dict[str, Any]:
    created = int(time.time())
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": created, "owned_by": OWNER}
            for name in model_names
        ],
    }


def sse_event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()
