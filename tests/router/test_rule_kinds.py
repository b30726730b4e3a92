"""Each rule condition, end to end: the request reaches the provider its rule names."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.conftest import StartRouter, provider
from tests.fakes.openai import OpenAIFake

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Er"
    "kJggg=="
)
FUNCTION = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **extra}


CASES: list[tuple[dict[str, Any], dict[str, Any], dict[str, str], str]] = [
    ({"thinking": True}, chat(reasoning_effort="high"), {}, "/v1/chat/completions"),
    ({"tools": True}, chat(tools=[FUNCTION]), {}, "/v1/chat/completions"),
    ({"tool": "look*"}, chat(tools=[FUNCTION]), {}, "/v1/chat/completions"),
    (
        {"images": True},
        chat(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
                    ],
                }
            ]
        ),
        {},
        "/v1/chat/completions",
    ),
    ({"format": "openai-responses"}, {"model": "gpt-4o", "input": "hi"}, {}, "/v1/responses"),
    ({"client-key": "ci-*"}, chat(), {"Authorization": "Bearer ci-secret"}, "/v1/chat/completions"),
    ({"model": "re:gpt-4.*"}, chat(), {}, "/v1/chat/completions"),
]


@pytest.fixture
async def alt_fake():
    async with OpenAIFake() as fake:
        yield fake


@pytest.mark.parametrize(("when", "body", "headers", "path"), CASES)
async def test_rule_kind_routes_matching_requests_only(
    router_factory: StartRouter,
    openai_fake: OpenAIFake,
    alt_fake: OpenAIFake,
    when: dict[str, Any],
    body: dict[str, Any],
    headers: dict[str, str],
    path: str,
) -> None:
    kind = "openai-responses" if path == "/v1/responses" else "openai"
    router = await router_factory(
        {
            "api-keys": [{"name": "ci-runner", "key": "ci-secret"}, {"name": "me", "key": "mine"}],
            "providers": [
                provider(
                    "main", openai_fake.base_url + "/v1", [openai_fake.key], ["gpt-4o"], kind=kind
                ),
                provider(
                    "alt", alt_fake.base_url + "/v1", [alt_fake.key], ["alt-model"], kind=kind
                ),
            ],
            "routing": {"rules": [{"name": "r", "when": when, "model": "alt-model"}]},
        }
    )
    plain = {"model": "other-name", "input": "hi"} if kind != "openai" else chat(model="other-name")
    async with aiohttp.ClientSession() as http:
        sent = {"Authorization": "Bearer mine", **headers}
        async with http.post(router.url + path, json=body, headers=sent) as reply:
            assert reply.status == 200, await reply.text()
        assert alt_fake.last_request.json["model"] == "alt-model"
        # a request without the matching property stays with its own model
        async with http.post(
            router.url + path,
            json={**plain, "model": "gpt-4o"} if when.get("model") is None else plain,
            headers={"Authorization": "Bearer mine"},
        ) as reply:
            if when.get("format"):
                assert reply.status == 200
                assert len(alt_fake.requests) == 2  # every Responses request matches
                return
            if when.get("model"):
                assert reply.status == 404  # other-name is no model at all
            else:
                assert reply.status == 200, await reply.text()
                assert openai_fake.last_request.json["model"] == "gpt-4o"
    assert len(alt_fake.requests) == 1
