"""A router in front of one fake per upstream kind, two named client keys, and the
requests a test sends through it (raw HTTP, so every token count is the test's own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartRouter, provider
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake

KEYS = {"alice": "sk-alice-0123456789", "bob": "sk-bob-0123456789"}
MESSAGES = [{"role": "user", "content": "hello"}]


def usage_config(
    openai: OpenAIFake, anthropic: AnthropicFake, gemini: GeminiFake, **top: Any
) -> dict[str, Any]:
    return {
        "api-keys": [{"name": name, "key": key} for name, key in KEYS.items()],
        "routing": {"retry-backoff": 0},
        "providers": [
            provider(
                "p-openai",
                openai.base_url + "/v1",
                [{"name": "first", "key": openai.key}, {"name": "second", "key": openai.key}],
                ["gpt-4o", "gpt-4o-mini"],
            ),
            provider(
                "p-anthropic", anthropic.base_url, [anthropic.key], ["claude-sonnet-4-5"],
                kind="anthropic",
            ),
            provider(
                "p-gemini", gemini.base_url, [gemini.key], ["gemini-2.5-flash"], kind="gemini"
            ),
        ],
        **top,
    }  # fmt: skip


@dataclass
class Client:
    """Raw HTTP calls to the router as one client key."""

    url: str
    session: aiohttp.ClientSession

    async def chat(self, key: str, model: str, stream: bool = False) -> int:
        body: dict[str, Any] = {"model": model, "messages": MESSAGES, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        return await self._post("/v1/chat/completions", key, body)

    async def messages(self, key: str, model: str, stream: bool = False) -> int:
        body = {"model": model, "max_tokens": 64, "messages": MESSAGES, "stream": stream}
        return await self._post("/v1/messages", key, body)

    async def gemini(self, key: str, model: str) -> int:
        body = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
        return await self._post(f"/v1beta/models/{model}:generateContent", key, body)

    async def _post(self, path: str, key: str, body: dict[str, Any]) -> int:
        headers = {"Authorization": f"Bearer {key}"}
        async with self.session.post(self.url + path, json=body, headers=headers) as response:
            await response.read()
            return response.status


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as session:
        yield session


async def start_usage_router(
    router_factory: StartRouter,
    openai: OpenAIFake,
    anthropic: AnthropicFake,
    gemini: GeminiFake,
    **top: Any,
):
    return await router_factory(usage_config(openai, anthropic, gemini, **top))
