"""`python -m providers.aistudio --config` as a real process: connects, serves, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from router.relay import RelayHub
from tests.aistudio.conftest import start_hub_server

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_service_process_connects_reports_health_and_stops(tmp_path: Path) -> None:
    served = await start_hub_server(RelayHub())
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"auth-dir: {tmp_path / 'auth'}\n"
        "aistudio:\n"
        "  enabled: true\n"
        f"  relay-url: {served.ws_url()}\n"
        "  relay-key: proc-key\n"
        "  session-name: proc\n"
        f"  control-port: {port}\n"
        "  origin: http://127.0.0.1:9/\n"
        "  api-base: http://127.0.0.1:9\n"
        f"  diagnostics-dir: {tmp_path / 'logs'}\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "providers.aistudio", "--config", str(config), cwd=REPO
    )
    try:
        async with asyncio.timeout(20):
            await served.hub.wait_for_session("proc")
            async with (
                aiohttp.ClientSession() as http,
                http.get(
                    f"http://127.0.0.1:{port}/health",
                    headers={"Authorization": "Bearer proc-key"},
                ) as resp,
            ):
                health = await resp.json()
        assert health["connected"] is True
        assert health["session"] == "absent"
        assert health["browser"] == "running"
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await served.hub.close()
        await served.server.close()
