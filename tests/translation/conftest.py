"""A router in front of one provider per upstream kind, and readers of each upstream shape.

Every client model name ``via-<kind>`` resolves to exactly one provider, so a test
parametrized over ``kind`` drives one client format against every upstream format.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

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


@pytest.fixture
async def openai_sdk(mesh: Mesh) -> AsyncIterator[openai.AsyncOpenAI]:
    """The openai SDK (Chat Completions and Responses) pointed at the router."""
    async with openai.AsyncOpenAI(
        base_url=mesh.url + "/v1", api_key="unused", max_retries=0
    ) as sdk:
        yield sdk


@pytest.fixture
async def anthropic_sdk(mesh: Mesh) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(base_url=mesh.url, api_key="unused", max_retries=0) as sdk:
        yield sdk


@pytest.fixture
async def genai_sdk(mesh: Mesh) -> AsyncIterator[genai.client.AsyncClient]:
    sdk = genai.Client(
        api_key="unused",
        http_options=types.HttpOptions(
            base_url=mesh.url, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )
    yield sdk.aio
    await sdk.aio.aclose()


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


def upstream_images(kind: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """Every image the upstream received, as (media type, base64 data) or ("url", url)."""
    found: list[tuple[str, str]] = []
    if kind == "gemini":
        for content in body["contents"]:
            for part in content["parts"]:
                blob = part.get("inlineData") or part.get("inline_data")
                if blob:
                    # google-genai sends URL-safe base64, which Gemini accepts.
                    data = blob["data"].replace("-", "+").replace("_", "/")
                    found.append((blob.get("mimeType") or blob["mime_type"], data))
        return found
    if kind == "anthropic":
        for message in body["messages"]:
            for block in message["content"] if isinstance(message["content"], list) else ():
                if block["type"] == "image":
                    source = block["source"]
                    if source["type"] == "base64":
                        found.append((source["media_type"], source["data"]))
                    else:
                        found.append(("url", source["url"]))
        return found
    messages = body["messages"] if kind == "openai" else body["input"]
    image_type = "image_url" if kind == "openai" else "input_image"
    for message in messages:
        content = message.get("content")
        for part in content if isinstance(content, list) else ():
            if part.get("type") == image_type:
                url = part["image_url"]["url"] if kind == "openai" else part["image_url"]
                found.append(_split_data_url(url))
    return found


def _split_data_url(url: str) -> tuple[str, str]:
    if not url.startswith("data:"):
        return ("url", url)
    header, _, data = url[5:].partition(",")
    return (header.removesuffix(";base64"), data)


def upstream_tool_choice(kind: str, body: dict[str, Any]) -> str | tuple[str, str] | None:
    """The tool choice in the upstream's shape, read as "auto", "none", "required" or
    ("tool", name)."""
    if kind == "gemini":
        config = (body.get("toolConfig") or {}).get("functionCallingConfig")
        if config is None:
            return None
        allowed = config.get("allowedFunctionNames") or []
        mode = {"AUTO": "auto", "NONE": "none", "ANY": "required"}[config["mode"]]
        return ("tool", allowed[0]) if mode == "required" and len(allowed) == 1 else mode
    choice = body.get("tool_choice")
    if choice is None or isinstance(choice, str):
        return choice
    if kind == "anthropic":
        if choice["type"] == "tool":
            return ("tool", choice["name"])
        return {"auto": "auto", "any": "required", "none": "none"}[choice["type"]]
    assert choice["type"] == "function"
    return ("tool", choice["function"]["name"] if kind == "openai" else choice["name"])


def upstream_output_schema(kind: str, body: dict[str, Any]) -> dict[str, Any] | str:
    """The JSON Schema the upstream was asked to answer in, or "json_object"."""
    if kind == "openai":
        fmt = body["response_format"]
        return fmt["json_schema"]["schema"] if fmt["type"] == "json_schema" else fmt["type"]
    if kind == "openai-responses":
        fmt = body["text"]["format"]
        return fmt["schema"] if fmt["type"] == "json_schema" else fmt["type"]
    if kind == "anthropic":
        return body["output_config"]["format"]["schema"]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    return config.get("responseJsonSchema") or config.get("responseSchema") or "json_object"


def schema_shape(schema: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """Property names, required names and lower-cased property types of an object schema,
    comparable across JSON Schema and Gemini's Schema (types in capitals)."""
    properties = schema["properties"]
    types = [str(properties[name].get("type", "")).lower() for name in sorted(properties)]
    return sorted(properties), sorted(schema.get("required", [])), types
