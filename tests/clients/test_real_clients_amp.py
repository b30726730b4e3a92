"""The real, pinned Amp CLI, unmodified, through the router to a fake of the Amp server.

This Amp (@ampcode/cli 0.0.1790142911-g7618fb) makes no model call itself: it asks the
Amp server for the user, plugins and skills, creates a thread (POST /api/thread-actors)
and opens a WebSocket to the thread actor (<AMP_URL>/actors/gateway/...), on which the
Amp server runs the agent, its model calls included, and asks the CLI to run tools. The
actor's protocol (Rivet frames, bare-encoded) is not in the CLI and cannot be recorded
offline, so no one-shot or tool loop can run against local fakes (docs/CLIENTS.md). What
runs here is everything up to that socket: every backend call the real CLI makes reaches
the Amp fake through the router with the user's Amp key instead of the router key, and
its actor socket reaches the fake through the router's relay with the wsToken the fake
issued. No model upstream hears from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clients.clients import BIN, FAKE_KEY, PROMPT, prepare
from tests.clients.record import run_client
from tests.clients.tool_loop import MARKER
from tests.conftest import StartRouter
from tests.fakes.amp import ACTOR_GATEWAY, BARE_ENCODING, AmpFake
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.translation.conftest import Mesh, mesh_config

AMP_KEY = AmpFake.default_keys[0]  # what the amp_fake fixture accepts
TIMEOUT = 60.0
# Where this Amp stops without the Amp server's thread actor (its message for a refused
# actor socket).
ACTOR_REFUSED = "WebSocket connection failed"


@pytest.fixture
async def amp_router(
    router_factory: StartRouter,
    amp_fake: AmpFake,
    openai_fake: OpenAIFake,
    anthropic_fake: AnthropicFake,
    gemini_fake: GeminiFake,
) -> Mesh:
    """A router keyed with the CLI's key, the Amp fake as Amp server, one upstream a kind."""
    if not (BIN / "amp").exists():
        pytest.fail("the pinned Amp CLI is not installed: run `make clients`")
    config = mesh_config(openai_fake, anthropic_fake, gemini_fake)
    config.update({"api-keys": [FAKE_KEY], "amp": {"upstream-url": amp_fake.base_url,
                   "api-key": AMP_KEY}})  # fmt: skip
    router = await router_factory(config)
    return Mesh(router.url, openai_fake, anthropic_fake, gemini_fake)


async def test_amp_reaches_its_thread_actor_through_the_router(
    amp_router: Mesh, amp_fake: AmpFake, client_home: Path
) -> None:
    prompt = PROMPT.format(marker=MARKER)
    status, output = await run_client(prepare("amp", amp_router.url, client_home, "", prompt),
                                      TIMEOUT)  # fmt: skip
    assert status != 0 and ACTOR_REFUSED in output, output

    calls = [(r.path, next(iter(r.query), "")) for r in amp_fake.requests]
    assert calls[0] == ("/api/internal", "getUserInfo")
    for call in [("/api/internal", "loadPlugins"), ("/api/internal", "loadSkills"),
                 ("/api/telemetry", ""), ("/api/thread-actors", "")]:  # fmt: skip
        assert call in calls, calls
    backend = [r for r in amp_fake.requests if r.path.startswith("/api/")]
    assert all(r.headers["Authorization"] == f"Bearer {AMP_KEY}" for r in backend)
    assert FAKE_KEY not in json.dumps([dict(r.headers) for r in amp_fake.requests])

    # The actor socket came through the relay, authenticated by the thread's wsToken (a
    # wrong one is a 401): the fake refused only because it does not play the actor.
    sockets = [r for r in amp_fake.requests if r.path == ACTOR_GATEWAY]
    assert sockets and all(r.status == 501 for r in sockets), [r.status for r in sockets]
    assert {r.query["rvt-key"] for r in sockets} == set(amp_fake.threads)
    assert all(BARE_ENCODING in seen["protocols"] for seen in amp_fake.sockets)

    for kind in ("openai", "anthropic", "gemini"):
        assert amp_router.fake(kind).requests == [], f"Amp made a model call to {kind}"
