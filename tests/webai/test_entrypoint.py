"""Startup: config validation, `python -m providers.webai`, and no network from g4f."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import g4f.debug
import pytest
import yaml

from providers.webai.errors import WebAIConfigError
from providers.webai.http_server import OUTCOMES_KEY, build_app
from tests.webai.helpers import KEY, chat_body, provider_spec

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 15.0


def write_config(path: Path, **overrides: Any) -> Path:
    section = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": 0,
        "key": KEY,
        "timeout": 5,
        "providers": [provider_spec("Broken"), provider_spec("FixedText")],
        "cookies-dir": str(path.parent / "cookies"),
        "models": {"gpt-webai": "test-model"},
    }
    section.update(overrides)
    path.write_text(yaml.safe_dump({"webai": section}))
    return path


async def spawn_service(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "providers.webai",
        "--config",
        str(config),
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


ROUTER_LINE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "


async def read_listening_url(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while line := (await process.stderr.readline()).decode():
            if "event=listening" in line:
                return line.split("url=", 1)[1].split()[0]
    raise AssertionError("service exited before listening")


async def test_module_entrypoint_serves_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = await spawn_service(write_config(tmp_path / "config.yaml"))
    try:
        base_url = await read_listening_url(process)
        async with aiohttp.ClientSession() as session:
            async with session.post(
                base_url + "/v1/chat/completions",
                json=chat_body(),
                headers={"Authorization": f"Bearer {KEY}"},
            ) as response:
                assert response.status == 200
            async with session.get(base_url + "/health") as response:
                assert response.status == 200
                health = await response.json()
        outcomes = {entry["name"]: entry["last_outcome"] for entry in health["providers"]}
        assert outcomes["Broken"]["status"] == "error"
        assert outcomes["FixedText"]["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STARTUP_TIMEOUT):
            assert await process.wait() == 0
        assert process.stderr is not None
        remaining_log = (await process.stderr.read()).decode()
        request_lines = [line for line in remaining_log.splitlines() if "event=request" in line]
        # The router's own line dialect (router.logs): "<UTC ms>Z <level> <logger> key=value".
        assert re.fullmatch(
            ROUTER_LINE + r"info cliproxy\.webai event=request .*", request_lines[0]
        )
        assert KEY not in remaining_log
        assert "Traceback" not in remaining_log
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"enabled": False}, "webai.enabled is false"),
        ({"providers": ["NoSuchG4FProvider"]}, "unknown g4f provider"),
    ],
)
async def test_module_entrypoint_refuses_unservable_config(
    tmp_path: Path, overrides: dict[str, Any], expected: str
) -> None:
    process = await spawn_service(write_config(tmp_path / "config.yaml", **overrides))
    async with asyncio.timeout(STARTUP_TIMEOUT):
        _, stderr = await process.communicate()
    assert process.returncode == 2
    assert expected in stderr.decode()
    assert "Traceback" not in stderr.decode()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"key": ""}, "webai.key is empty"),
        ({"providers": ()}, "webai.providers is empty"),
        ({"providers": ("NoSuchG4FProvider",)}, "unknown g4f provider"),
        ({"providers": ("json:loads",)}, "unknown g4f provider"),
        ({"providers": ("no_such_module_here:Thing",)}, "cannot import provider module"),
    ],
)
def test_build_app_rejects_unservable_config(
    webai_config: Any, overrides: dict[str, Any], expected: str
) -> None:
    with pytest.raises(WebAIConfigError, match=expected):
        build_app(webai_config("FixedText", **overrides))


def test_build_app_rejects_the_same_provider_twice(webai_config: Any) -> None:
    with pytest.raises(WebAIConfigError, match="twice: FixedText"):
        build_app(webai_config("FixedText", "FixedText"))


def test_builtin_g4f_provider_names_resolve(webai_config: Any) -> None:
    app = build_app(webai_config(providers=("Gemini", "PollinationsAI")))
    names = [entry["name"] for entry in app[OUTCOMES_KEY].snapshot()]
    assert names == ["Gemini", "PollinationsAI"]


def test_g4f_version_check_is_disabled() -> None:
    assert g4f.debug.version_check is False
    assert g4f.debug.logging is False
