"""``python -m router login`` in a real process, and a router killed mid-refresh."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp
import yaml

from router.credentials import CredentialStore
from tests.fakes.oauth import ClaudeOAuthFake, OpenAIOAuthFake

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(tmp_path: Path, section: str, values: dict[str, object]) -> Path:
    path = tmp_path / "config.yaml"
    config = {"auth-dir": str(tmp_path / "auth"), "subscriptions": {section: values}}
    path.write_text(yaml.safe_dump(config))
    return path


async def start_login(config: Path, provider: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "router",
        "login",
        provider,
        "--config",
        str(config),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def read_url(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line, "login exited before printing a URL"
        if line.strip().startswith("http"):
            return line.strip()


async def test_terminal_login_with_a_pasted_code(tmp_path: Path) -> None:
    async with ClaudeOAuthFake(emails=("ada@example.com",)) as oauth:
        config = write_config(
            tmp_path,
            "claude",
            {
                "authorize-url": oauth.authorize_endpoint,
                "token-url": oauth.token_endpoint,
                "redirect-uri": f"http://localhost:{free_port()}/callback",
            },
        )
        process = await start_login(config, "claude")
        url = await read_url(process)
        pasted = await oauth.authorize_paste(url)
        assert process.stdin is not None
        process.stdin.write(pasted.encode() + b"\n")
        await process.stdin.drain()
        output, _ = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, output
        assert b"Logged in as ada@example.com" in output
        stored = CredentialStore(tmp_path / "auth").get("claude", "claude-ada@example.com")
        assert stored is not None
        assert stored.data["access_token"] == oauth.last_grant.access_token


async def test_terminal_login_through_the_browser_redirect(tmp_path: Path) -> None:
    async with OpenAIOAuthFake(emails=("grace@example.com",)) as oauth:
        redirect = f"http://localhost:{free_port()}/auth/callback"
        config = write_config(
            tmp_path,
            "chatgpt",
            {
                "authorize-url": oauth.authorize_endpoint,
                "token-url": oauth.token_endpoint,
                "redirect-uri": redirect,
            },
        )
        process = await start_login(config, "chatgpt")
        url = await read_url(process)
        code, state = await oauth.authorize(url)
        async with (
            aiohttp.ClientSession() as http,
            http.get(redirect, params={"code": code, "state": state}) as response,
        ):
            assert response.status == 200
            assert "Logged in as grace@example.com" in await response.text()
        output, _ = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, output
        stored = CredentialStore(tmp_path / "auth").list("chatgpt")
        assert [c.data["account_id"] for c in stored] == [oauth.account.account_id]


async def test_router_killed_during_a_refresh_leaves_a_readable_credential(
    tmp_path: Path,
) -> None:
    """kill -9 while the token endpoint is answering: the old file stays whole and usable."""
    async with ClaudeOAuthFake(emails=("ada@example.com",)) as oauth:
        oauth.token_delay = 5.0
        store = CredentialStore(tmp_path / "auth")
        store.save(
            "claude",
            "claude-ada",
            {
                "access_token": "sk-ant-oat01-old",
                "refresh_token": "sk-ant-ort01-old",
                "expires_at": time.time() + 60,
                "email": "ada@example.com",
            },
        )
        config = write_config(
            tmp_path,
            "claude",
            {"token-url": oauth.token_endpoint, "refresh-check-interval": 0.1},
        )
        config_data = yaml.safe_load(config.read_text())
        config_data["port"] = free_port()
        config.write_text(yaml.safe_dump(config_data))
        router = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "router",
            "serve",
            "--config",
            str(config),
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            for _ in range(200):
                if any(r.path == oauth.token_path for r in oauth.requests):
                    break
                await asyncio.sleep(0.05)
            assert any(r.path == oauth.token_path for r in oauth.requests)
        finally:
            router.send_signal(signal.SIGKILL)
            await router.wait()
        files = sorted(p.name for p in (tmp_path / "auth").iterdir())
        assert files == ["claude-ada.json", "relay.key"]
        data = json.loads((tmp_path / "auth" / "claude-ada.json").read_text())
        assert data["refresh_token"] == "sk-ant-ort01-old"
        assert CredentialStore(tmp_path / "auth").get("claude", "claude-ada") is not None
