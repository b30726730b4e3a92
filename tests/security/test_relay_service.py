"""The AI Studio service process finds the generated relay key by itself (real Chromium)."""

from __future__ import annotations

import asyncio
import signal
import socket
import stat
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml

from router.config import read_config
from router.server import start_router

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_service_connects_with_the_generated_key(tmp_path: Path) -> None:
    control_port = free_port()
    config = {
        "port": free_port(),
        "auth-dir": str(tmp_path / "auth"),
        "aistudio": {
            "enabled": True,
            "session-name": "proc",
            "control-port": control_port,
            "origin": "http://127.0.0.1:9/",
            "api-base": "http://127.0.0.1:9",
            "diagnostics-dir": str(tmp_path / "logs"),
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    router = await start_router(read_config(path, env={}), path)
    key_file = tmp_path / "auth" / "relay.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "providers.aistudio", "--config", str(path), cwd=REPO
    )
    try:
        async with asyncio.timeout(30):
            await router.state.relay.wait_for_session("proc")
        control = f"http://127.0.0.1:{control_port}/status"
        async with aiohttp.ClientSession() as http:
            async with http.get(control) as response:
                assert response.status == 401
            key = key_file.read_text().strip()
            async with http.get(control, headers={"Authorization": f"Bearer {key}"}) as response:
                assert response.status == 200
            async with http.get(router.url + "/v1/auth/aistudio/status") as response:
                assert response.status == 200, await response.text()
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await router.stop()
