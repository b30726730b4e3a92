"""What a target cannot express is dropped visibly: X-Cliproxy-Dropped and dropped= (issue 12).

``translation.strict: true`` brings back the 400 naming the field; passthrough drops nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartRouter
from tests.translation.conftest import Mesh, client_model, mesh_config

GEMINI_WITH_TOPK = {
    "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    "generationConfig": {"topK": 40, "temperature": 0.5},
}


async def post(url: str, path: str, body: dict[str, Any]) -> tuple[int, Any, Any]:
    async with aiohttp.ClientSession() as http, http.post(url + path, json=body) as response:
        return response.status, await response.json(), response.headers


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.name == "router.request"]


async def test_gemini_topk_to_an_openai_upstream_is_dropped_and_named(
    mesh: Mesh, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = f"/v1beta/models/{client_model('openai')}:generateContent"
    status, body, headers = await post(mesh.url, path, GEMINI_WITH_TOPK)
    assert status == 200, body
    assert headers["X-Cliproxy-Dropped"] == "generationConfig.topK"
    sent = mesh.upstream_requests("openai")[-1]
    assert sent["temperature"] == 0.5 and "top_k" not in sent
    assert request_lines(caplog)[-1]["dropped"] == "generationConfig.topK"


async def test_a_codex_style_request_to_anthropic_drops_bookkeeping(mesh: Mesh) -> None:
    body = {
        "model": client_model("anthropic"),
        "input": "hi",
        "client_metadata": {"installation": "x"},
        "prompt_cache_key": "conversation-1",
        "store": False,
    }
    status, answer, headers = await post(mesh.url, "/v1/responses", body)
    assert status == 200, answer
    dropped = set(headers["X-Cliproxy-Dropped"].split(", "))
    assert {"client_metadata", "prompt_cache_key"} <= dropped
    sent = mesh.upstream_requests("anthropic")[-1]
    assert "client_metadata" not in sent and "prompt_cache_key" not in sent


async def test_a_field_name_cannot_split_the_header(mesh: Mesh) -> None:
    body = {
        "model": client_model("anthropic"),
        "messages": [{"role": "user", "content": "hi"}],
        "x-note\r\nSet-Cookie: a=b": 1,
        "naïve": 2,
    }
    status, answer, headers = await post(mesh.url, "/v1/chat/completions", body)
    assert status == 200, answer
    assert "Set-Cookie" not in headers
    assert all(0x21 <= ord(c) <= 0x7E or c in ", " for c in headers["X-Cliproxy-Dropped"])


async def test_passthrough_drops_nothing(mesh: Mesh) -> None:
    path = f"/v1beta/models/{client_model('gemini')}:generateContent"
    status, body, headers = await post(mesh.url, path, GEMINI_WITH_TOPK)
    assert status == 200, body
    assert "X-Cliproxy-Dropped" not in headers
    assert mesh.upstream_requests("gemini")[-1]["generationConfig"]["topK"] == 40


async def test_strict_translation_answers_400_naming_the_field(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake
) -> None:
    config = {
        **mesh_config(openai_fake, anthropic_fake, gemini_fake),
        "translation": {"strict": True},
    }
    router = await router_factory(config)
    path = f"/v1beta/models/{client_model('openai')}:generateContent"
    status, body, headers = await post(router.url, path, GEMINI_WITH_TOPK)
    assert status == 400
    assert "topK" in body["error"]["message"] and body["error"]["status"] == "INVALID_ARGUMENT"
    assert "X-Cliproxy-Dropped" not in headers


async def test_a_replayed_web_search_reaches_chat_as_text_and_is_named(mesh: Mesh) -> None:
    """A Responses client's earlier web_search_call has no Chat form: its query and sources
    go as text in the assistant turn, and the item is named."""
    search = {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {
            "type": "search",
            "query": "paris weather",
            "sources": [{"type": "url", "url": "https://weather.example/paris"}],
        },
    }
    body = {
        "model": client_model("openai"),
        "input": [
            {"role": "user", "content": "Weather in Paris?"},
            search,
            {"role": "assistant", "content": "18C."},
            {"role": "user", "content": "Tomorrow?"},
        ],
    }
    status, answer, headers = await post(mesh.url, "/v1/responses", body)
    assert status == 200, answer
    assert headers["X-Cliproxy-Dropped"] == "input[1]"
    assistant = mesh.upstream_requests("openai")[-1]["messages"][1]
    assert assistant["role"] == "assistant"
    assert "paris weather" in str(assistant["content"])
    assert "https://weather.example/paris" in str(assistant["content"])
