"""Endpoints shared by every pair: model lists, Amp CLI prefixes, OpenAI passthrough bytes."""

from __future__ import annotations

import json

import aiohttp
import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.conftest import closing_genai
from tests.fakes.behaviours import Reply
from tests.translation.conftest import KINDS, UPSTREAM_MODEL, Mesh, client_model

EVERY_MODEL = {name for kind in KINDS for name in (client_model(kind), UPSTREAM_MODEL[kind])}


async def test_models_in_openai_and_anthropic_shapes(mesh: Mesh) -> None:
    async with openai.AsyncOpenAI(base_url=mesh.url + "/v1", api_key="k") as client:
        assert {m.id async for m in client.models.list()} == EVERY_MODEL
    async with anthropic.AsyncAnthropic(base_url=mesh.url, api_key="k") as client:
        page = await client.models.list()
        assert {m.id for m in page.data} == EVERY_MODEL
        assert all(m.type == "model" for m in page.data)
    async with aiohttp.ClientSession() as http:
        headers = {"anthropic-version": "2023-06-01"}
        async with http.get(mesh.url + "/v1/models", headers=headers) as response:
            listing = await response.json()
    assert listing["has_more"] is False
    assert listing["first_id"] == listing["data"][0]["id"]
    assert listing["last_id"] == listing["data"][-1]["id"]


async def test_gemini_model_list(mesh: Mesh) -> None:
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=mesh.url))
    try:
        names = {m.name async for m in await client.aio.models.list()}
    finally:
        await client.aio.aclose()
    assert names == {f"models/{name}" for name in EVERY_MODEL}
    async with aiohttp.ClientSession() as http:
        async with http.get(mesh.url + "/v1beta/models") as response:
            listing = await response.json()
    methods = {tuple(m["supportedGenerationMethods"]) for m in listing["models"]}
    assert methods == {("generateContent", "streamGenerateContent", "countTokens")}


async def test_amp_prefixes_reach_every_handler(mesh: Mesh) -> None:
    """Amp CLI's /api/provider/<name> paths serve the same APIs as the plain paths."""
    mesh.anthropic.script.push(Reply(text="from anthropic"))
    mesh.openai.script.push(Reply(text="from openai"))
    mesh.gemini.script.push(Reply(text="from gemini"))
    async with anthropic.AsyncAnthropic(
        base_url=mesh.url + "/api/provider/anthropic", api_key="k", max_retries=0
    ) as client:
        message = await client.messages.create(
            model=client_model("anthropic"),
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
        )
        assert message.content[0].text == "from anthropic"
        counted = await client.messages.count_tokens(
            model=client_model("openai"), messages=[{"role": "user", "content": "hi"}]
        )
        assert counted.input_tokens > 0
    async with openai.AsyncOpenAI(
        base_url=mesh.url + "/api/provider/openai/v1", api_key="k", max_retries=0
    ) as client:
        reply = await client.chat.completions.create(
            model=client_model("openai"), messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.choices[0].message.content == "from openai"
    gemini = genai.Client(
        api_key="k",
        http_options=types.HttpOptions(
            base_url=mesh.url + "/api/provider/google", api_version="v1beta"
        ),
    )
    try:
        answer = await gemini.aio.models.generate_content(
            model=client_model("gemini"), contents="hi"
        )
    finally:
        await gemini.aio.aclose()
    assert answer.text == "from gemini"
    assert mesh.gemini.last_request.path == "/v1beta/models/gemini-2.5-flash:generateContent"


async def test_amp_prefix_errors_keep_the_client_format(mesh: Mesh) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            mesh.url + "/api/provider/anthropic/v1/messages",
            json={"model": "no-such-model", "max_tokens": 5, "messages": []},
        ) as response:
            assert response.status == 404
            body = await response.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"


async def test_chat_passthrough_forwards_bytes_unchanged(mesh: Mesh) -> None:
    """OpenAI Chat to OpenAI Chat: only the model changes; n=2 and vendor fields go through."""
    body = {
        "model": client_model("openai"),
        "messages": [{"role": "user", "content": "hi"}],
        "n": 2,
        "seed": 3,
        "logprobs": True,
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(mesh.url + "/v1/chat/completions", json=body) as response:
            assert response.status == 200
            raw = await response.read()
    assert mesh.openai.last_request.json == {**body, "model": "gpt-4o"}
    answer = json.loads(raw)
    assert answer["system_fingerprint"] == "fp_fake"
    assert answer["model"] == "gpt-4o"


async def test_responses_passthrough_forwards_body_unchanged(mesh: Mesh) -> None:
    body = {
        "model": client_model("openai-responses"),
        "input": "hi",
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "truncation": "auto",
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(mesh.url + "/v1/responses", json=body) as response:
            assert response.status == 200
            answer = await response.json()
    assert mesh.openai.last_request.json == {**body, "model": "gpt-5"}
    assert answer["truncation"] == "auto" and answer["store"] is False


async def test_single_model_lookup_in_each_sdk(mesh) -> None:
    openai_client = openai.AsyncOpenAI(base_url=mesh.url + "/v1", api_key="x")
    found = await openai_client.models.retrieve("via-openai")
    assert found.id == "via-openai"
    async with closing_genai(
        genai.Client(api_key="x", http_options=types.HttpOptions(base_url=mesh.url))
    ) as genai_client:
        model = await genai_client.aio.models.get(model="via-gemini")
        assert model.name == "models/via-gemini"
        with pytest.raises(openai.NotFoundError):
            await openai_client.models.retrieve("no-such-model")
