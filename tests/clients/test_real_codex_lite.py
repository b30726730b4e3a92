"""Codex CLI with its own default model: the pinned release's bundled catalog marks it
``use_responses_lite``, so Codex sends the x-openai-internal-codex-responses-lite header
and offers its tools in an ``additional_tools`` input item instead of ``tools``. That
shape, unmodified, through the router to every upstream kind and the ChatGPT backend."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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
    bodies = mesh.upstream_requests(kind)
    assert bodies, f"codex sent nothing to the {kind} upstream"
    assert all(not tool_result_texts(body) for body in bodies)


def code_tool_called(kind: str, body: dict[str, Any]) -> bool:
    """Whether the history the upstream got holds the model's call of Codex's exec: as
    Codex sent it to a Responses upstream (a custom_tool_call in its namespace), else as
    the flattened function with the script as its one argument."""
    if kind == "openai-responses":
        return any(
            item.get("type") == "custom_tool_call"
            and (item.get("namespace"), item.get("name")) == ("functions", "exec")
            and "tools.exec_command" in item.get("input", "")
            for item in body["input"]
        )
    return any(
        name == "functions__exec" and "tools.exec_command" in arguments.get("input", "")
        for name, arguments in history_calls(kind, body)
    )


def history_calls(kind: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, arguments) of the tool calls in a translated request's history."""
    if kind == "openai":
        return [
            (call["function"]["name"], json.loads(call["function"]["arguments"]))
            for message in body["messages"]
            for call in message.get("tool_calls") or []
        ]
    if kind == "anthropic":
        return [
            (block["name"], block["input"])
            for message in body["messages"]
            if isinstance(message["content"], list)
            for block in message["content"]
            if block.get("type") == "tool_use"
        ]
    return [
        (part["functionCall"]["name"], part["functionCall"].get("args") or {})
        for content in body["contents"]
        for part in content["parts"]
        if "functionCall" in part
    ]


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
    assert code_tool_called(kind, with_result[-1])


async def test_one_shot_through_the_chatgpt_backend(
    chatgpt_backend: ChatGPTBackend, client_home: Path
) -> None:
    await run(chatgpt_backend.url, client_home, "Say hello in one word.")
    (request,) = chatgpt_backend.codex.requests
    assert request.headers.get(LITE_HEADER) == "true"
    assert request.json["model"] == MODEL


async def test_tool_loop_through_the_chatgpt_backend(
    chatgpt_backend: ChatGPTBackend, client_home: Path
) -> None:
    await run(chatgpt_backend.url, client_home, PROMPT.format(marker=MARKER))
    first = chatgpt_backend.codex.requests[0]
    assert first.headers.get(LITE_HEADER), "Codex did not use its Responses-Lite shape"
    last = chatgpt_backend.codex.last_request.json
    assert any(MARKER in text for text in tool_result_texts(last))
    assert any(item.get("type") == "reasoning" for item in last["input"]), last["input"]
