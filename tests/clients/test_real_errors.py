"""Errors retrying cannot fix reach the user of the real Claude Code within seconds.

Claude Code retries 408, 409, 429 and 5xx for minutes without a word; a missing
credential, an account not logged in, an unknown model or a bad client key must use a
status it does not retry, and the message must say what to do.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.clients.clients import prepare
from tests.clients.conftest import require_clients
from tests.clients.record import run_client
from tests.conftest import StartRouter, provider

# Far below Claude Code's retry schedule (10 attempts with backoff up to 32 s).
PROMPT_SECONDS = 20.0


def no_credential() -> dict:
    return {
        "providers": [
            provider(
                "anthropic",
                "http://127.0.0.1:9",
                ["${NO_SUCH_KEY}"],
                ["claude-x"],
                kind="anthropic",
            )
        ],
        "subscriptions": {"claude": {"enabled": False}},
    }


CASES = [
    pytest.param(no_credential(), "claude-x", None, "NO_SUCH_KEY is not set", id="no-key"),
    pytest.param({}, "claude-sonnet-4-5", None, "no claude account is logged in", id="no-login"),
    pytest.param(no_credential(), "no-such-model", None, "no-such-model", id="unknown-model"),
    pytest.param(
        {**no_credential(), "api-keys": ["right"]}, "claude-x", "wrong", "invalid API key",
        id="wrong-client-key",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("config", "model", "client_key", "expected"), CASES)
async def test_claude_code_shows_the_fix_within_seconds(
    router_factory: StartRouter,
    tmp_path: Path,
    config: dict,
    model: str,
    client_key: str | None,
    expected: str,
) -> None:
    require_clients()
    router = await router_factory(config)
    run = prepare("claude-code", router.url, tmp_path / "home", model, "hello")
    if client_key is not None:
        run.env["ANTHROPIC_API_KEY"] = client_key
    started = time.monotonic()
    status, output = await run_client(run, PROMPT_SECONDS + 10)
    elapsed = time.monotonic() - started
    assert expected in output, output
    assert status != 0
    assert elapsed < PROMPT_SECONDS, f"the message took {elapsed:.1f}s"
