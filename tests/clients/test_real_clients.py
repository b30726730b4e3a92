"""The real, pinned agent CLIs, unmodified, through the router to strict upstream fakes.

Each client runs headless with a throwaway HOME: a one-shot, and a tool loop in which the
CLI really runs its shell tool and sends the output back with the model's reasoning.
Only the paths that work today are here (the client's own format upstream, or the
translated ones that pass); the translated matrix follows the translation policy work.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.clients.clients import PROMPT, prepare
from tests.clients.record import run_client
from tests.clients.tool_loop import FINAL_TEXT, MARKER, tool_result_texts
from tests.translation.conftest import KINDS, Mesh, client_model

CLIENTS = (
    "claude-code",
    "codex",
    "gemini-cli",
    "opencode",
    "opencode-google",
    "opencode-anthropic",
    "aider",
)
# aider edits files through its text edit formats and offers the model no tools: it has
# no tool loop to run.
WITHOUT_TOOLS = frozenset({"aider"})
# (test, client, upstream kind) -> what fails today; every other combination runs.
KNOWN_FAILURES: dict[tuple[str, str, str], str] = {}


def paths(test: str) -> list[object]:
    return [
        pytest.param(client, kind, id=f"{client}->{kind}")
        for client in CLIENTS
        for kind in KINDS
        if (test, client, kind) not in KNOWN_FAILURES
        and not (test == "tool-loop" and client in WITHOUT_TOOLS)
    ]


TIMEOUT = 60.0


def model_for(client: str, kind: str) -> str:
    """The client's own default model where the router maps it to ``kind``, else via-kind.

    Claude Code sends a mid-conversation system message only for models it knows."""
    return "sonnet" if (client, kind) == ("claude-code", "anthropic") else client_model(kind)


async def run(client: str, mesh: Mesh, kind: str, home: Path, prompt: str) -> str:
    started = time.monotonic()
    status, output = await run_client(
        prepare(client, mesh.url, home, model_for(client, kind), prompt), TIMEOUT
    )
    assert status == 0, (
        f"{client} exited {status} after {time.monotonic() - started:.1f}s:\n{output}"
    )
    return output


# How Claude Code's mid-conversation system message (its environment notes) begins.
CLAUDE_CODE_INSTRUCTION = "You have been invoked in the following environment"


def instruction_kept(kind: str, body: dict[str, Any]) -> bool:
    """Claude Code's mid-conversation instruction reached the upstream: in place where the
    format holds one there (a later system/developer message or item), else merged into
    the system instruction (Gemini); Anthropic gets Claude Code's own bytes."""
    if kind == "openai":
        later = [m for m in body["messages"][1:] if m["role"] in ("system", "developer")]
    elif kind == "openai-responses":
        items = body["input"] if isinstance(body["input"], list) else []
        later = [i for i in items[1:] if i.get("role") in ("system", "developer")]
    elif kind == "gemini":
        later = [body.get("systemInstruction")]
    else:
        later = body["messages"][1:]
    return CLAUDE_CODE_INSTRUCTION in json.dumps(later)


def reasoning_sent_back(kind: str, body: dict[str, Any]) -> bool:
    """Whether the upstream request carries the reasoning of the earlier tool-call turn."""
    if kind == "anthropic":
        return any(
            block.get("type") == "thinking" and block.get("signature")
            for message in body["messages"]
            if message["role"] == "assistant" and isinstance(message["content"], list)
            for block in message["content"]
        )
    if kind == "openai-responses":
        return any(item.get("type") == "reasoning" for item in body["input"])
    if kind == "gemini":
        return any(
            "thoughtSignature" in part and "functionCall" in part
            for content in body["contents"]
            for part in content["parts"]
        )
    return any(m.get("reasoning_content") for m in body["messages"] if m["role"] == "assistant")


@pytest.mark.parametrize(("client", "kind"), paths("one-shot"))
async def test_one_shot(loop_mesh: Mesh, client_home: Path, client: str, kind: str) -> None:
    output = await run(client, loop_mesh, kind, client_home, "Say hello in one word.")
    assert FINAL_TEXT in output
    if client == "aider":  # every other address goes to a closed port (clients.NOWHERE)
        assert not any(s in output for s in ("Max retries exceeded", "ProxyError")), output
    bodies = loop_mesh.upstream_requests(kind)
    assert bodies, f"{client} sent nothing to the {kind} upstream"
    assert all(not tool_result_texts(body) for body in bodies)


@pytest.mark.parametrize(("client", "kind"), paths("tool-loop"))
async def test_tool_loop_with_reasoning(
    loop_mesh: Mesh, client_home: Path, client: str, kind: str
) -> None:
    output = await run(client, loop_mesh, kind, client_home, PROMPT.format(marker=MARKER))
    assert FINAL_TEXT in output
    bodies = loop_mesh.upstream_requests(kind)
    with_result = [body for body in bodies if tool_result_texts(body)]
    assert with_result, f"{client} never sent a tool result to the {kind} upstream"
    last = with_result[-1]
    assert any(MARKER in text for text in tool_result_texts(last)), tool_result_texts(last)
    assert reasoning_sent_back(kind, last), f"{client} dropped the reasoning on {kind}"
    if client == "claude-code":
        assert instruction_kept(kind, last), (
            "Claude Code's mid-conversation instruction went missing"
        )
