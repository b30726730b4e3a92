"""Credential writes interrupted by a crash are finished at start, and leftovers removed.

Before the fix a kill -9 between the temp file's fsync and its rename lost a rotated
refresh token: the router kept using the old (already spent) one and never cleaned up.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from router.credentials import CredentialStore
from router.credentials.recovery import recover_interrupted_writes
from tests.fakes.oauth import ClaudeOAuthFake
from tests.subscriptions.test_terminal_login import ROOT, free_port

EMAIL = "ada@example.com"


def write(path: Path, data: dict[str, Any], mtime: float) -> None:
    path.write_text(json.dumps(data))
    os.utime(path, (mtime, mtime))


def test_the_newest_valid_temp_file_wins_and_leftovers_go(tmp_path: Path) -> None:
    now = time.time()
    account = {"type": "claude", "email": EMAIL}
    write(tmp_path / "claude-ada.json", {**account, "refresh_token": "old"}, now - 100)
    write(tmp_path / ".claude-ada.json.aaaa1111", {**account, "refresh_token": "mid"}, now - 50)
    write(tmp_path / ".claude-ada.json.bbbb2222", {**account, "refresh_token": "new"}, now - 10)
    (tmp_path / ".claude-ada.json.cccc3333").write_text('{"type": "claude", "refre')
    write(tmp_path / "chatgpt-x.json", {"type": "chatgpt", "account_id": "x"}, now - 10)
    write(tmp_path / ".chatgpt-x.json.dddd4444", {"type": "chatgpt", "account_id": "x"}, now - 99)
    write(tmp_path / "claude-bo.json", {"type": "claude", "email": "bo@example.com"}, now - 99)
    write(tmp_path / ".claude-bo.json.eeee5555", {**account, "refresh_token": "other"}, now)
    write(tmp_path / ".claude-new.json.ffff6666", {**account, "refresh_token": "lone"}, now)
    (tmp_path / ".keep-me").write_text("not a credential temp file")
    write(tmp_path / ".claude-ada.json.bak", {**account, "refresh_token": "backup"}, now)

    assert recover_interrupted_writes(tmp_path) == ["claude-ada.json", "claude-new.json"]
    store = CredentialStore(tmp_path)
    ada = store.get("claude", "claude-ada")
    assert ada is not None and ada.data["refresh_token"] == "new"
    assert store.get("claude", "claude-new").data["refresh_token"] == "lone"
    assert store.get("claude", "claude-bo").data["email"] == "bo@example.com"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".claude-ada.json.bak",
        ".keep-me",
        "chatgpt-x.json",
        "claude-ada.json",
        "claude-bo.json",
        "claude-new.json",
    ]
    assert recover_interrupted_writes(tmp_path / "missing") == []


def router_config(tmp_path: Path, oauth: ClaudeOAuthFake, **claude: object) -> Path:
    path = tmp_path / "config.yaml"
    config = {
        "auth-dir": str(tmp_path / "auth"),
        "port": free_port(),
        "subscriptions": {"claude": {"token-url": oauth.token_endpoint, **claude}},
    }
    path.write_text(yaml.safe_dump(config))
    return path


async def start(config: Path, *wrapper: str) -> asyncio.subprocess.Process:
    module = wrapper or ("router",)
    with (config.parent / "router.log").open("ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            *module,
            "serve",
            "--config",
            str(config),
            cwd=ROOT,
            stderr=log,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            # Its own process group: a SIGKILL to the group also takes a worker that froze.
            start_new_session=True,
        )


async def wait_for(condition: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_kill_9_after_a_token_rotation_keeps_the_account(tmp_path: Path) -> None:
    async with ClaudeOAuthFake(emails=(EMAIL,), expires_in=600) as oauth:
        first = oauth.issue(oauth.account, ("user:inference",))
        CredentialStore(tmp_path / "auth").save(
            "claude",
            "claude-ada",
            {
                "access_token": first.access_token,
                "refresh_token": first.refresh_token,
                "expires_at": time.time() + 60,
                "email": EMAIL,
            },
        )
        marker = tmp_path / "frozen"
        config = router_config(
            tmp_path, oauth, **{"refresh-ahead": 300, "refresh-check-interval": 0.1}
        )
        router = await start(config, "tests.subscriptions.frozen_rename", str(marker))
        try:
            await wait_for(marker.exists, "the rotated token's write")
        finally:
            os.killpg(router.pid, signal.SIGKILL)
            await router.wait()
        rotated = oauth.grants[-1]
        assert first.refresh_used and rotated.refresh_token != first.refresh_token
        auth = tmp_path / "auth"
        assert len([p for p in auth.iterdir() if p.name.startswith(".")]) == 1

        config = router_config(
            tmp_path, oauth, **{"refresh-ahead": 900, "refresh-check-interval": 600}
        )
        restarted = await start(config)
        try:
            await wait_for(lambda: rotated.refresh_used, "a refresh with the rotated token")
            await wait_for(lambda: len(oauth.grants) == 3, "the next grant")
            port = yaml.safe_load(config.read_text())["port"]
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/v1/auth/llmux/claude/status") as response,
            ):
                accounts = (await response.json())["accounts"]
        finally:
            restarted.terminate()
            await restarted.wait()
        log = (tmp_path / "router.log").read_text()
        assert [(a["label"], a["state"]) for a in accounts] == [(EMAIL, "ok")], log
        assert sorted(p.name for p in auth.iterdir()) == ["claude-ada.json", "relay.key"]
        stored = CredentialStore(auth).get("claude", "claude-ada")
        assert stored is not None
        assert stored.data["refresh_token"] == oauth.grants[-1].refresh_token
