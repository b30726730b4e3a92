"""The relay always authenticates: a generated key in auth-dir when none is configured."""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import openai
import pytest
import yaml

from router.config import read_config
from router.relay.key import config_with_relay_key, ensure_relay_key, relay_key_path
from router.server import RunningRouter
from testkit.relay_peer import RelayPeer, stream_handler
from tests.conftest import StartRouter

REPO = Path(__file__).resolve().parents[2]
SESSION = "aistudio"
MODEL = "gemini-2.5-flash-aistudio"


def ws_url(router: RunningRouter, key: str | None, name: str = SESSION) -> str:
    url = router.url.replace("http://", "ws://", 1) + f"/v1/ws?name={name}"
    return url + (f"&auth_token={key}" if key is not None else "")


def answer_chunk(text: str) -> str:
    event = {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]}
    event["candidates"][0]["finishReason"] = "STOP"
    return f"data: {json.dumps(event)}\r\n\r\n"


async def ask(router: RunningRouter) -> str:
    chat = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
    async with asyncio.timeout(10):
        stream = await chat.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])


async def refused_status(url: str) -> int:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url)
    return refused.value.status


async def test_generated_key_is_private_and_required(
    router_factory: StartRouter, tmp_path: Path
) -> None:
    router = await router_factory({})
    path = tmp_path / "auth" / "relay.key"
    key = path.read_text().strip()
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert router.state.runtime.config.aistudio.relay_key == key
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith(".")]

    assert await refused_status(ws_url(router, None)) == 401
    assert await refused_status(ws_url(router, "wrong")) == 401
    assert router.state.relay.sessions() == []
    async with RelayPeer(ws_url(router, key), stream_handler([answer_chunk("real")])):
        async with asyncio.timeout(5):
            await router.state.relay.wait_for_session(SESSION)
        assert await ask(router) == "real"


async def test_a_peer_without_the_key_cannot_replace_the_session(
    router_factory: StartRouter,
) -> None:
    router = await router_factory({})
    key = router.state.runtime.config.aistudio.relay_key
    real = RelayPeer(ws_url(router, key), stream_handler([answer_chunk("from the user")]))
    async with real:
        async with asyncio.timeout(5):
            await router.state.relay.wait_for_session(SESSION)
        for attempt in (None, "", "guess", key + "x"):
            assert await refused_status(ws_url(router, attempt)) == 401
        assert await ask(router) == "from the user"
        assert len(real.requests) == 1


async def test_the_relay_key_works_when_client_keys_are_required(
    router_factory: StartRouter,
) -> None:
    router = await router_factory({"api-keys": ["client-key"]})
    key = router.state.runtime.config.aistudio.relay_key
    async with RelayPeer(ws_url(router, key), stream_handler([])):
        async with asyncio.timeout(5):
            await router.state.relay.wait_for_session(SESSION)
    assert await refused_status(ws_url(router, "wrong", name="other")) == 401


async def test_a_configured_relay_key_is_used_and_nothing_is_generated(
    router_factory: StartRouter, tmp_path: Path
) -> None:
    router = await router_factory({"aistudio": {"relay-key": "configured-key"}})
    assert not (tmp_path / "auth" / "relay.key").exists()
    assert await refused_status(ws_url(router, "wrong")) == 401
    async with RelayPeer(ws_url(router, "configured-key"), stream_handler([])):
        async with asyncio.timeout(5):
            await router.state.relay.wait_for_session(SESSION)


def test_racing_creators_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"auth-dir": str(tmp_path / "auth")}))
    config = read_config(path, env={}).config
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: ensure_relay_key(config), range(16)))
    assert keys == {relay_key_path(config).read_text().strip()}
    assert sorted(p.name for p in (tmp_path / "auth").iterdir()) == ["relay.key"]


def test_cli_prints_the_key_the_router_uses(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"auth-dir": str(tmp_path / "auth")}))
    printed = subprocess.run(
        [sys.executable, "-m", "router", "relay-key", "--config", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert printed == (tmp_path / "auth" / "relay.key").read_text().strip()
    config = read_config(path, env={}).config
    assert ensure_relay_key(config) == printed


def test_an_unwritable_auth_dir_refuses_peers_but_keeps_the_router(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"auth-dir": str(blocker / "auth")}))
    config = read_config(path, env={}).config
    first = config_with_relay_key(config).aistudio.relay_key
    second = config_with_relay_key(config).aistudio.relay_key
    # Nobody can know a key that changes at every start: peers are refused, nothing fails.
    assert first and second and first != second
