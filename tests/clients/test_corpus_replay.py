"""Every recorded client request, replayed through the router to every upstream kind.

The upstreams are the strict fakes; their reasoning signatures use the corpus key, so a
recorded second turn is accepted by the upstream kind that issued its reasoning.
KNOWN_FAILURES lists the combinations that fail today (the translation policy of issue
12 rejects fields these clients send); they are left out of the parametrisation, not
skipped, and the list is emptied as the policy lands.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.clients.capture import CORPUS_SIGNING_KEY
from tests.clients.corpus import Captured, answer_complete, generation_requests, replay
from tests.conftest import StartRouter
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.translation.conftest import KINDS, Mesh, client_model, mesh_config

# What the router answers today (the first error only: more may follow once it is fixed).
ROLE_SYSTEM = "400: messages[1].role: expected 'user' or 'assistant'"
NAMESPACE = "400: tools[4].type: tool type 'namespace' is not supported"
TOP_K = "400: generationConfig.topK: top-k sampling cannot be translated to <target>"

CLAUDE_CODE = "claude-code/2.1.332/00{}-post-v1-messages-beta"
CODEX = "codex/0.171.0/00{}-post-v1-responses"
GEMINI_CLI = "gemini-cli/0.61.0/00{}-post-v1beta-models-gemini-2-5-pro-streamGenerateContent-alt"
OPENCODE_GOOGLE = (
    "opencode-google/1.18.33/00{}-post-v1beta-models-gemini-2-5-pro-streamGenerateContent-alt"
)
# (captured request id, upstream kind) -> what fails today.
KNOWN_FAILURES: dict[tuple[str, str], str] = {
    (request.format(n), kind): reason
    for request, turns, kinds, reason in (
        (CLAUDE_CODE, (1, 2), ("openai", "openai-responses", "gemini"), ROLE_SYSTEM),
        (CODEX, (1, 2), ("openai", "anthropic", "gemini"), NAMESPACE),
        (GEMINI_CLI, (1, 2), ("openai", "openai-responses"), TOP_K),
        (OPENCODE_GOOGLE, (1, 2, 3), ("openai", "openai-responses"), TOP_K),
    )
    for n in turns
    for kind in kinds
}

CASES = [
    pytest.param(captured, kind, id=f"{captured.id}->{kind}")
    for captured in generation_requests()
    for kind in KINDS
    if (captured.id, kind) not in KNOWN_FAILURES
]


@pytest.fixture
async def corpus_mesh(router_factory: StartRouter) -> AsyncIterator[Mesh]:
    async with OpenAIFake() as openai, AnthropicFake(signing_key=CORPUS_SIGNING_KEY) as anthropic:
        async with GeminiFake(signing_key=CORPUS_SIGNING_KEY) as gemini:
            router = await router_factory(mesh_config(openai, anthropic, gemini))
            yield Mesh(router.url, openai, anthropic, gemini)


def test_known_failures_name_recorded_requests() -> None:
    """A stale entry (request re-recorded under a new name) would hide nothing: flag it."""
    ids = {captured.id for captured in generation_requests()}
    assert {request for request, _kind in KNOWN_FAILURES} <= ids
    assert {kind for _request, kind in KNOWN_FAILURES} <= set(KINDS)


def test_corpus_covers_every_pinned_client() -> None:
    clients = {captured.client for captured in generation_requests()}
    assert clients == {
        "claude-code", "codex", "gemini-cli", "opencode", "opencode-google", "opencode-anthropic"
    }  # fmt: skip


@pytest.mark.parametrize(("captured", "kind"), CASES)
async def test_replay(corpus_mesh: Mesh, captured: Captured, kind: str) -> None:
    status, text = await replay(captured, corpus_mesh.url, client_model(kind))
    assert status == 200, text[:2000]
    assert captured.api is not None
    assert answer_complete(captured.api, captured.stream, text), text[-2000:]
    assert len(corpus_mesh.upstream_requests(kind)) == 1
