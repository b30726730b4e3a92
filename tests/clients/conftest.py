"""Strict fakes that play the scripted tool loop, behind a router with one provider per kind.

The fakes are the ones in tests/fakes (they validate like the real APIs and sign their
reasoning); only their choice of answer changes: a request that mentions the test's
marker and offers a shell tool gets a call of that tool, every other request a final
text. Client model ``via-<kind>`` reaches the upstream of that kind, and so does any
``claude-*`` name for the anthropic kind.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from router.credentials import CredentialStore
from tests.clients.clients import AIDER, BIN
from tests.clients.tool_loop import MARKER, loop_reply
from tests.conftest import StartRouter
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.base import RecordedRequest
from tests.fakes.behaviours import Behaviour
from tests.fakes.codex import CodexFake
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.translation.conftest import Mesh, mesh_config


class ToolLoop:
    """Mixin for a FakeServer: scripted behaviours first, then the tool loop."""

    marker = MARKER

    def next_behaviour(self, record: RecordedRequest) -> Behaviour:
        if self.script.pending:  # type: ignore[attr-defined]
            return super().next_behaviour(record)  # type: ignore[misc]
        behaviour = loop_reply(record.json, self.marker)
        record.behaviour = behaviour
        return behaviour


class LoopOpenAIFake(ToolLoop, OpenAIFake):
    pass


class LoopAnthropicFake(ToolLoop, AnthropicFake):
    pass


class LoopGeminiFake(ToolLoop, GeminiFake):
    pass


class LoopCodexFake(ToolLoop, CodexFake):
    pass


@dataclass
class ChatGPTBackend:
    """A router whose ChatGPT subscription (one logged-in account) uses the Codex fake."""

    url: str
    codex: LoopCodexFake


def require_clients() -> None:
    """The pinned CLIs must be installed; a missing install is a failure, not a skip."""
    wanted = [BIN / b for b in ("claude", "codex", "gemini", "opencode")] + [AIDER]
    missing = [path.name for path in wanted if not path.exists()]
    if missing:
        pytest.fail(f"pinned CLIs not installed ({', '.join(missing)}): run `make clients`")


@pytest.fixture
async def loop_mesh(router_factory: StartRouter) -> AsyncIterator[Mesh]:
    require_clients()
    async with LoopOpenAIFake() as openai, LoopAnthropicFake() as anthropic:
        async with LoopGeminiFake() as gemini:
            config = mesh_config(openai, anthropic, gemini)
            # Claude Code's own names (`sonnet` is sent as its current claude-* id).
            config["routes"] = [{"model": "claude-*", "providers": ["p-anthropic"]}]
            router = await router_factory(config)
            yield Mesh(router.url, openai, anthropic, gemini)


@pytest.fixture
async def chatgpt_backend(
    router_factory: StartRouter, tmp_path: Path
) -> AsyncIterator[ChatGPTBackend]:
    require_clients()
    async with LoopCodexFake() as codex:
        CredentialStore(tmp_path / "auth").save(
            "chatgpt",
            "chatgpt-ada@example.com",
            {
                "access_token": codex.key,
                "refresh_token": "unused-refresh-token",
                "expires_at": time.time() + 86400,
                "account_id": codex.account_id,
                "email": "ada@example.com",
            },
        )
        subscriptions = {
            "chatgpt": {"backend-url": codex.backend_url},
            "claude": {"enabled": False},
            "ctonew": {"enabled": False},
        }
        router = await router_factory({"subscriptions": subscriptions})
        yield ChatGPTBackend(router.url, codex)


@pytest.fixture
def client_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home
