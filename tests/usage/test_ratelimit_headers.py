"""Upstream rate-limit headers reach the client: as sent on passthrough, renamed across
the OpenAI and Anthropic families, absent where the client's API has no names for them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from router.formats import Format
from router.generation.rate_limit_headers import rate_limit_headers
from tests.conftest import StartRouter
from tests.fakes.behaviours import Stream
from tests.usage.conftest import KEYS, MESSAGES, start_usage_router

OPENAI_HEADERS = {
    "x-ratelimit-limit-requests": "500",
    "x-ratelimit-remaining-requests": "499",
    "x-ratelimit-reset-requests": "1m30s",
    "x-ratelimit-limit-tokens": "30000",
    "x-ratelimit-remaining-tokens": "29000",
    "x-ratelimit-reset-tokens": "120ms",
}
ANTHROPIC_HEADERS = {
    "anthropic-ratelimit-requests-limit": "50",
    "anthropic-ratelimit-requests-remaining": "49",
    "anthropic-ratelimit-requests-reset": "2099-01-01T00:00:00Z",
    "anthropic-ratelimit-input-tokens-limit": "40000",
}
AUTH = {"Authorization": f"Bearer {KEYS['alice']}"}


@pytest.fixture
async def router(router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake):
    openai_fake.response_headers = dict(OPENAI_HEADERS)
    anthropic_fake.response_headers = dict(ANTHROPIC_HEADERS)
    return await start_usage_router(router_factory, openai_fake, anthropic_fake, gemini_fake)


async def _headers(http, url: str, body: dict) -> dict[str, str]:
    async with http.post(url, json=body, headers=AUTH) as response:
        assert response.status == 200, await response.text()
        await response.read()
        return {k.lower(): v for k, v in response.headers.items()}


@pytest.mark.parametrize("stream", [False, True])
async def test_passthrough_copies_the_upstream_headers(router, http, openai_fake, stream) -> None:
    if stream:
        openai_fake.script.push(Stream(chunks=2))
    body = {"model": "gpt-4o", "messages": MESSAGES, "stream": stream}
    got = await _headers(http, router.url + "/v1/chat/completions", body)
    assert {k: got[k] for k in OPENAI_HEADERS} == OPENAI_HEADERS
    anthropic = {"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": MESSAGES}
    got = await _headers(http, router.url + "/v1/messages", {**anthropic, "stream": stream})
    assert {k: got[k] for k in ANTHROPIC_HEADERS} == ANTHROPIC_HEADERS


async def test_translated_requests_get_the_equivalent_names(router, http) -> None:
    chat = {"model": "claude-sonnet-4-5", "messages": MESSAGES}
    got = await _headers(http, router.url + "/v1/chat/completions", chat)
    assert got["x-ratelimit-limit-requests"] == "50"
    assert got["x-ratelimit-remaining-requests"] == "49"
    expected = datetime(2099, 1, 1, tzinfo=UTC).timestamp() - time.time()
    assert abs(float(got["x-ratelimit-reset-requests"].removesuffix("s")) - expected) < 60
    assert not any(k.startswith("anthropic-ratelimit") for k in got)

    messages = {"model": "gpt-4o", "max_tokens": 8, "messages": MESSAGES}
    got = await _headers(http, router.url + "/v1/messages", messages)
    assert got["anthropic-ratelimit-requests-limit"] == "500"
    assert got["anthropic-ratelimit-tokens-remaining"] == "29000"
    reset = datetime.fromisoformat(got["anthropic-ratelimit-requests-reset"].replace("Z", "+00:00"))
    assert abs(reset.timestamp() - (time.time() + 90)) <= 2
    assert not any(k.startswith("x-ratelimit") for k in got)

    gemini = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    got = await _headers(http, router.url + "/v1beta/models/gpt-4o:generateContent", gemini)
    assert not any("ratelimit" in k for k in got)


def test_retry_after_always_passes_and_bad_values_are_left_out() -> None:
    upstream = {"Retry-After": "7", "x-ratelimit-reset-requests": "soon"}
    got = rate_limit_headers(upstream, Format.OPENAI_CHAT, Format.ANTHROPIC)
    assert got == {"retry-after": "7"}
    assert rate_limit_headers(upstream, Format.OPENAI_CHAT, Format.GEMINI) == {"retry-after": "7"}
