"""Shared constants and request builders for the WebAI service tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

KEY = "test-shared-key-0123456789"
TEST_PROVIDERS_MODULE = "tests.webai.g4f_test_providers"
CHAT_PATH = "/v1/chat/completions"


def provider_spec(name: str) -> str:
    return f"{TEST_PROVIDERS_MODULE}:{name}"


def auth_headers(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def chat_body(
    stream: bool = False, model: str = "gpt-webai", content: str = "hi"
) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": content}]}


async def wait_until(condition: Callable[[], bool], within: float = 1.0) -> bool:
    """Poll `condition` until it holds or `within` seconds pass; returns its last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True
