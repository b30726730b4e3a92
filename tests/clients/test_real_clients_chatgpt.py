"""The real CLIs through the router to the ChatGPT subscription's Codex backend (a strict
fake: instructions required, stream and store:false forced, no refused parameters)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.clients import PROMPT, prepare
from tests.clients.conftest import ChatGPTBackend
from tests.clients.record import run_client
from tests.clients.test_real_clients import CLIENTS, TIMEOUT, WITHOUT_TOOLS
from tests.clients.tool_loop import FINAL_TEXT, MARKER, tool_result_texts

MODEL = "gpt-5"


async def run(client: str, backend: ChatGPTBackend, home: Path, prompt: str) -> str:
    run = prepare(client, backend.url, home, MODEL, prompt)
    status, output = await run_client(run, TIMEOUT)
    assert status == 0, f"{client} exited {status}:\n{output}"
    assert FINAL_TEXT in output
    return output


@pytest.mark.parametrize("client", CLIENTS)
async def test_one_shot(chatgpt_backend: ChatGPTBackend, client_home: Path, client: str) -> None:
    await run(client, chatgpt_backend, client_home, "Say hello in one word.")
    assert chatgpt_backend.codex.requests


@pytest.mark.parametrize("client", [c for c in CLIENTS if c not in WITHOUT_TOOLS])
async def test_tool_loop_with_reasoning(
    chatgpt_backend: ChatGPTBackend, client_home: Path, client: str
) -> None:
    await run(client, chatgpt_backend, client_home, PROMPT.format(marker=MARKER))
    last = chatgpt_backend.codex.last_request.json
    assert any(MARKER in text for text in tool_result_texts(last))
    assert any(item.get("type") == "reasoning" for item in last["input"]), last["input"]
