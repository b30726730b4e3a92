"""A router in front of one provider per upstream kind, and readers of each upstream shape.

Every client model name ``via-<kind>`` resolves to exactly one provider, so a test
parametrized over ``kind`` drives one client format against every upstream format.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import StartRouter, provider
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.base import FakeServer
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake

KINDS = ("openai", "openai-responses", "anthropic", "gemini")
UPSTREAM_MODEL = {
    "openai": "gpt-4o",
    "openai-responses": "gpt-5",
    "anthropic": "claude-sonnet-4-5-20250929",
    "gemini": "gemini-2.5-flash",
}
# The stop reason each upstream uses for "ran out of output tokens".
MAX_TOKENS_STOP = {
    "openai": "length",
    "openai-responses": "max_output_tokens",
    "anthropic": "max_tokens",
    "gemini": "MAX_TOKENS",
}
LONG_TOOL_NAME = "fetch_the_current_weather_report_for_a_city_with_every_detail_available_x"
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}
SYSTEM_PROMPT = "You answer in one short sentence."


def client_model(kind: str) -> str:
    return f"via-{kind}"


@dataclass
class Mesh:
    """The running router and the fakes behind it."""

    url: str
    openai: OpenAIFake
    anthropic: AnthropicFake
    gemini: GeminiFake

    def fake(self, kind: str) -> FakeServer:
        if kind in ("openai", "openai-responses"):
            return self.openai
        return self.anthropic if kind == "anthropic" else self.gemini

    def upstream_requests(self, kind: str) -> list[dict[str, Any]]:
        """Bodies of the generation requests the upstream of ``kind`` received."""
        path = {
            "openai": "/v1/chat/completions",
            "openai-responses": "/v1/responses",
            "anthropic": "/v1/messages",
        }.get(kind)
        bodies = []
        for record in self.fake(kind).requests:
            if (path and record.path == path) or (kind == "gemini" and "Content" in record.path):
                bodies.append(record.json)
        return bodies


def mesh_config(openai: OpenAIFake, anthropic: AnthropicFake, gemini: GeminiFake) -> dict:
    bases = {
        "openai": (openai.base_url + "/v1", openai.key),
        "openai-responses": (openai.base_url + "/v1", openai.key),
        "anthropic": (anthropic.base_url, anthropic.key),
        "gemini": (gemini.base_url, gemini.key),
    }
    return {
        "providers": [
            provider(
                f"p-{kind}",
                bases[kind][0],
                [bases[kind][1]],
                [{"name": UPSTREAM_MODEL[kind], "aliases": [client_model(kind)]}],
                kind=kind,
            )
            for kind in KINDS
        ]
    }


@pytest.fixture
async def mesh(
    router_factory: StartRouter,
    openai_fake: OpenAIFake,
    anthropic_fake: AnthropicFake,
    gemini_fake: GeminiFake,
) -> AsyncIterator[Mesh]:
    router = await router_factory(mesh_config(openai_fake, anthropic_fake, gemini_fake))
    yield Mesh(router.url, openai_fake, anthropic_fake, gemini_fake)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


# Readers of what each upstream received, whatever its shape. ------------------------------


def upstream_tools(kind: str, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Tool name -> parameter schema, read from the upstream's own tool shape."""
    if kind == "openai":
        assert all(t["type"] == "function" for t in body["tools"])
        return {t["function"]["name"]: t["function"]["parameters"] for t in body["tools"]}
    if kind == "openai-responses":
        assert all(t["type"] == "function" for t in body["tools"])
        return {t["name"]: t["parameters"] for t in body["tools"]}
    if kind == "anthropic":
        return {t["name"]: t["input_schema"] for t in body["tools"]}
    declarations = [d for tool in body["tools"] for d in tool["functionDeclarations"]]
    keys = ("parameters", "parametersJsonSchema", "parameters_json_schema")
    return {d["name"]: next((d[k] for k in keys if k in d), None) for d in declarations}


def upstream_system(kind: str, body: dict[str, Any]) -> str:
    """The system prompt where the upstream format keeps it (and nowhere else)."""
    if kind == "openai":
        first = body["messages"][0]
        assert first["role"] in ("system", "developer")
        assert all(m["role"] not in ("system", "developer") for m in body["messages"][1:])
        return _text(first["content"])
    if kind == "openai-responses":
        if "instructions" in body:
            return body["instructions"]
        first = body["input"][0]
        assert first["role"] in ("system", "developer")
        return _text(first["content"])
    if kind == "anthropic":
        assert all(m["role"] in ("user", "assistant") for m in body["messages"])
        return _text(body["system"])
    assert all(c.get("role") in ("user", "model") for c in body["contents"])
    return "".join(p["text"] for p in body["systemInstruction"]["parts"])


def upstream_tool_results(kind: str, body: dict[str, Any]) -> list[str]:
    """The text of every tool result in the upstream conversation."""
    if kind == "openai":
        return [_text(m["content"]) for m in body["messages"] if m["role"] == "tool"]
    if kind == "openai-responses":
        return [
            i["output"] if isinstance(i["output"], str) else _text(i["output"])
            for i in body["input"]
            if i.get("type") == "function_call_output"
        ]
    if kind == "anthropic":
        return [
            _text(b["content"])
            for m in body["messages"]
            if isinstance(m["content"], list)
            for b in m["content"]
            if b["type"] == "tool_result"
        ]
    return [
        json.dumps(p["functionResponse"]["response"])
        for c in body["contents"]
        for p in c["parts"]
        if "functionResponse" in p
    ]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
