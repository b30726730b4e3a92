"""Codex CLI with its own default model: the pinned release's bundled catalog marks it
``use_responses_lite``, so Codex sends the x-openai-internal-codex-responses-lite header
and offers its tools in an ``additional_tools`` input item instead of ``tools``. That
shape, unmodified, through the router to every upstream kind and the ChatGPT backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.clients.clients import DEFAULT_MODELS, PROMPT, prepare
from tests.clients.conftest import (
    ChatGPTBackend,
    LoopAnthropicFake,
    LoopGeminiFake,
    LoopOpenAIFake,
    require_clients,
)
from tests.clients.record import run_client
from tests.clients.test_real_clients import TIMEOUT, reasoning_sent_back
from tests.clients.tool_loop import FINAL_TEXT, MARKER, tool_result_texts
from tests.conftest import StartRouter
from tests.translation.conftest import KINDS, Mesh, mesh_config

MODEL = DEFAULT_MODELS["codex-lite"]
LITE_HEADER = "x-openai-internal-codex-responses-lite"


@pytest.fixture(params=KINDS)
async def lite_mesh(
    request: pytest.FixtureRequest, router_factory: StartRouter
) -> AsyncIterator[tuple[Mesh, str]]:
    """The loop fakes behind a router that sends Codex's default model to one kind."""
    require_clients()
    kind = str(request.param)
    async with LoopOpenAIFake() as openai, LoopAnthropicFake() as anthropic:
        async with LoopGeminiFake() as gemini:
            config = mesh_config(openai, anthropic, gemini)
            config["routes"] = [{"model": MODEL, "providers": [f"p-{kind}"]}]
            router = await router_factory(config)
            yield Mesh(router.url, openai, anthropic, gemini), kind


async def run(url: str, home: Path, prompt: str) -> str:
    status, output = await run_client(prepare("codex-lite", url, home, MODEL, prompt), TIMEOUT)
    assert status == 0, f"codex exited {status}:\n{output}"
    assert FINAL_TEXT in output
    return output


async def test_one_shot_through_every_kind(lite_mesh: tuple[Mesh, str], client_home: Path) -> None:
    mesh, kind = lite_mesh
    await run(mesh.url, client_home, "Say hello in one word.")
    assert mesh.upstream_requests(kind)


async def test_tool_loop_with_reasoning_through_every_kind(
    lite_mesh: tuple[Mesh, str], client_home: Path
) -> None:
    mesh, kind = lite_mesh
    await run(mesh.url, client_home, PROMPT.format(marker=MARKER))
    bodies = mesh.upstream_requests(kind)
    with_result = [body for body in bodies if tool_result_texts(body)]
    assert with_result, f"codex never sent a tool result to the {kind} upstream"
    assert any(MARKER in text for text in tool_result_texts(with_result[-1]))
    assert reasoning_sent_back(kind, with_result[-1])


async def test_tool_loop_through_the_chatgpt_backend(
    chatgpt_backend: ChatGPTBackend, client_home: Path
) -> None:
    await run(chatgpt_backend.url, client_home, PROMPT.format(marker=MARKER))
    first = chatgpt_backend.codex.requests[0]
    assert first.headers.get(LITE_HEADER), "Codex did not use its Responses-Lite shape"
    last = chatgpt_backend.codex.last_request.json
    assert any(MARKER in text for text in tool_result_texts(last))
    assert any(item.get("type") == "reasoning" for item in last["input"]), last["input"]
