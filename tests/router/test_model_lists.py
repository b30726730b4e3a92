"""Model lists for model pickers: subscriptions' catalog names and rule targets, in the
OpenAI, Anthropic and Gemini shapes, parsed by the official SDKs."""

from __future__ import annotations

import time
from pathlib import Path

import anthropic
import openai
from google import genai
from google.genai import types as genai_types

from router.credentials import CredentialStore
from tests.conftest import StartRouter, provider
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.openai import OpenAIFake


async def start(
    router_factory: StartRouter, claude: AnthropicFake, cheap: OpenAIFake, tmp_path: Path
) -> str:
    CredentialStore(tmp_path / "auth").save(
        "claude",
        "claude-ada@example.com",
        {
            "access_token": claude.oauth_token,
            "refresh_token": "sk-ant-ort01-test",
            "expires_at": time.time() + 3600,
            "email": "ada@example.com",
        },
    )
    router = await router_factory(
        {
            "subscriptions": {"claude": {"api-base": claude.base_url}},
            "providers": [provider("cheap", cheap.base_url + "/v1", [cheap.key], ["gpt-4o-mini"])],
            "routes": [{"model": "bg-*", "providers": ["cheap"]}],
            "routing": {
                "rules": [{"name": "bg", "when": {"background": True}, "model": "bg-titles"}]
            },
        }
    )
    return router.url


async def test_openai_sdk_lists_subscription_catalog_names_and_rule_targets(
    router_factory: StartRouter,
    anthropic_fake: AnthropicFake,
    openai_fake: OpenAIFake,
    tmp_path: Path,
) -> None:
    url = await start(router_factory, anthropic_fake, openai_fake, tmp_path)
    client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="unused")
    models = {m.id: m async for m in client.models.list()}
    assert models["claude-sonnet-4-5"].owned_by == "llmux-claude"
    assert (models["claude-sonnet-4-5"].model_extra or {})["context_window"] == 200000
    assert models["bg-titles"].owned_by == "cheap"
    assert models["gpt-4o-mini"].owned_by == "cheap"
    assert not any(name.startswith("gpt-5") for name in models)  # no ChatGPT login


async def test_anthropic_and_gemini_sdks_parse_the_same_list(
    router_factory: StartRouter,
    anthropic_fake: AnthropicFake,
    openai_fake: OpenAIFake,
    tmp_path: Path,
) -> None:
    url = await start(router_factory, anthropic_fake, openai_fake, tmp_path)
    client = anthropic.AsyncAnthropic(base_url=url, api_key="unused")
    names = [m.id async for m in client.models.list()]
    assert "claude-haiku-4-5" in names and "bg-titles" in names
    gemini = genai.Client(
        api_key="unused", http_options=genai_types.HttpOptions(base_url=url, api_version="v1beta")
    )
    listed = {m.name: m for m in await gemini.aio.models.list()}
    sonnet = listed["models/claude-sonnet-4-5"]
    assert sonnet.input_token_limit == 200000 and sonnet.output_token_limit == 64000
    assert "models/bg-titles" in listed
