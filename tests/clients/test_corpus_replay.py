"""Every recorded client request, replayed through the router to every upstream kind.

The upstreams are the strict fakes; their reasoning signatures and encrypted reasoning use
the corpus key (tests/fakes/base.py), so a recorded second turn is accepted by the
upstream kind that issued its reasoning. Every
combination must answer (what a target cannot express is dropped and named, issue 12),
but for the few listed in KNOWN_FAILURES, with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.clients.corpus import Captured, answer_complete, generation_requests, replay
from tests.conftest import StartRouter
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.base import CORPUS_SIGNING_KEY
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.translation.conftest import KINDS, Mesh, client_model, mesh_config

# (captured request id, upstream kind) -> why it cannot pass yet; left out, not skipped.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}

CASES = [
    pytest.param(captured, kind, id=f"{captured.id}->{kind}")
    for captured in generation_requests()
    for kind in KINDS
    if (captured.id, kind) not in KNOWN_FAILURES
]


def test_known_failures_name_recorded_requests() -> None:
    """A stale entry (request re-recorded under a new name) would hide nothing: flag it."""
    ids = {captured.id for captured in generation_requests()}
    assert {request for request, _kind in KNOWN_FAILURES} <= ids


@pytest.fixture
async def corpus_mesh(router_factory: StartRouter) -> AsyncIterator[Mesh]:
    async with (
        OpenAIFake(signing_key=CORPUS_SIGNING_KEY) as openai,
        AnthropicFake(signing_key=CORPUS_SIGNING_KEY) as anthropic,
        GeminiFake(signing_key=CORPUS_SIGNING_KEY) as gemini,
    ):
        router = await router_factory(mesh_config(openai, anthropic, gemini))
        yield Mesh(router.url, openai, anthropic, gemini)


def test_corpus_covers_every_pinned_client() -> None:
    clients = {captured.client for captured in generation_requests()}
    assert clients == {
        "claude-code", "codex", "codex-lite", "gemini-cli", "opencode", "opencode-google",
        "opencode-anthropic", "aider",
    }  # fmt: skip


@pytest.mark.parametrize(("captured", "kind"), CASES)
async def test_replay(corpus_mesh: Mesh, captured: Captured, kind: str) -> None:
    status, text = await replay(captured, corpus_mesh.url, client_model(kind))
    assert status == 200, text[:2000]
    assert captured.api is not None
    assert answer_complete(captured.api, captured.stream, text), text[-2000:]
    assert len(corpus_mesh.upstream_requests(kind)) == 1
