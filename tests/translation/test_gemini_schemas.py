"""Gemini clients' OpenAPI-style schemas reach other upstreams as JSON Schema, and the
OpenAI and Anthropic fakes refuse what their services refuse on these paths."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.fakes.anthropic import AnthropicFake
from tests.fakes.behaviours import Reply
from tests.fakes.openai import OpenAIFake
from tests.translation.conftest import Mesh, client_model, upstream_tools

OPENAPI_SCHEMA = {
    "type": "OBJECT",
    "properties": {
        "city": {"type": "STRING", "description": "City name"},
        "days": {"type": "INTEGER", "nullable": True},
        "units": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["C", "F"]}},
    },
    "required": ["city"],
    "propertyOrdering": ["city", "days", "units"],
}
JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "days": {"type": ["integer", "null"]},
        "units": {"type": "array", "items": {"type": "string", "enum": ["C", "F"]}},
    },
    "required": ["city"],
}


async def test_gemini_openapi_schema_becomes_json_schema(mesh: Mesh, kind: str) -> None:
    mesh.fake(kind).script.push(Reply(text="ok"))
    body = {
        "contents": [{"role": "user", "parts": [{"text": "Weather?"}]}],
        "tools": [
            {"functionDeclarations": [{"name": "get_weather", "parameters": OPENAPI_SCHEMA}]}
        ],
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{mesh.url}/v1beta/models/{client_model(kind)}:generateContent", json=body
        ) as response,
    ):
        assert response.status == 200, await response.text()
    schema = upstream_tools(kind, mesh.upstream_requests(kind)[-1])["get_weather"]
    if kind == "gemini":
        assert schema == OPENAPI_SCHEMA  # passthrough: Gemini's own shape
    else:
        assert schema == JSON_SCHEMA


async def post(url: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as r,
    ):
        return r.status, await r.json()


async def test_openai_refuses_upper_case_types_and_long_safety_identifiers(
    openai_fake: OpenAIFake,
) -> None:
    openai_fake.script.always(Reply(text="ok"))
    headers = {"Authorization": f"Bearer {openai_fake.key}"}
    url = openai_fake.base_url + "/v1/chat/completions"
    base = {"model": "gpt-4o", "messages": [{"role": "user", "content": "q"}]}
    upper = {"type": "function", "function": {"name": "f", "parameters": OPENAPI_SCHEMA}}
    status, body = await post(url, {**base, "tools": [upper]}, headers)
    assert status == 400 and "'OBJECT' is not valid" in body["error"]["message"]
    lower = {"type": "function", "function": {"name": "f", "parameters": JSON_SCHEMA}}
    assert (await post(url, {**base, "tools": [lower]}, headers))[0] == 200
    status, body = await post(url, {**base, "safety_identifier": "u" * 129}, headers)
    assert status == 400 and body["error"]["param"] == "safety_identifier"
    assert (await post(url, {**base, "safety_identifier": "u" * 128}, headers))[0] == 200


async def test_anthropic_refuses_upper_case_types(anthropic_fake: AnthropicFake) -> None:
    headers = {"x-api-key": anthropic_fake.key, "anthropic-version": "2023-06-01"}
    url = anthropic_fake.base_url + "/v1/messages"
    base = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "q"}],
    }
    status, body = await post(
        url, {**base, "tools": [{"name": "f", "input_schema": OPENAPI_SCHEMA}]}, headers
    )
    assert status == 400 and "JSON schema is invalid" in body["error"]["message"]
    status, _ = await post(
        url, {**base, "tools": [{"name": "f", "input_schema": JSON_SCHEMA}]}, headers
    )
    assert status == 200
