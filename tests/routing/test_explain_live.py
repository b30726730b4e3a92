"""route explain with a router running: the live cooldowns (and until when), asked through
the authenticated management route; without one, a static explanation that says so."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
import yaml

from router.config.secret import hash_secret
from router.route_cli import route_main
from router.server import RunningRouter
from tests.conftest import StartRouter, provider
from tests.fakes.behaviours import Reply, Status
from tests.fakes.openai import OpenAIFake
from tests.fakes.proxy import unused_port

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
SECRET = "explain-s3cret"
UNTIL = re.compile(r"cooling (\d+\.\d) s \(until (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\)")


def config_for(fake: OpenAIFake, **top: Any) -> dict[str, Any]:
    keys = [{"name": "k1", "key": fake.key}, {"name": "k2", "key": fake.key}]
    return {
        "routing": {"retry-backoff": 0, "strategy": "fill-first"},
        "subscriptions": {"claude": {"enabled": False}, "chatgpt": {"enabled": False}},
        "providers": [provider("up", fake.base_url + "/v1", keys, ["m"])],
        **top,
    }


def cli_config(tmp_path: Path, router: RunningRouter | None, config: dict[str, Any]) -> Path:
    """The config file the command reads: the router's own, at the router's port."""
    port = int(router.url.rsplit(":", 1)[1]) if router else unused_port()
    path = tmp_path / "cli.yaml"
    path.write_text(yaml.safe_dump({"auth-dir": str(tmp_path / "auth"), **config, "port": port}))
    return path


async def run_explain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(BODY)))
    code = await asyncio.to_thread(route_main, ["explain", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def cool_first_key(router: RunningRouter, fake: OpenAIFake) -> None:
    fake.script.push(Status(429, retry_after=120))
    fake.script.push(Reply(text="from k2"))
    client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="x", max_retries=0)
    reply = await client.chat.completions.create(model="m", messages=BODY["messages"])
    await client.close()
    assert reply.choices[0].message.content == "from k2"


async def test_explain_asks_the_running_router_and_shows_until_when_keys_cool(
    router_factory: StartRouter,
    openai_fake: OpenAIFake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = config_for(openai_fake)
    router = await router_factory(config)
    await cool_first_key(router, openai_fake)
    path = cli_config(tmp_path, router, config)
    code, out, _ = await run_explain(monkeypatch, capsys, "--config", str(path))
    assert code == 0
    assert (
        out.splitlines()[0]
        == f"live: decided by the router at {router.url}, with its cooldowns now"
    )
    first = next(line for line in out.splitlines() if line.startswith("  1. "))
    assert first.startswith("  1. up credential=k1 model=m cooling ")
    seconds, until = UNTIL.search(first).groups()  # type: ignore[union-attr]
    assert 110 <= float(seconds) <= 120
    expected = time.time() + float(seconds)
    shown = time.mktime(time.strptime(until, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(shown - expected) <= 2
    assert "  2. up credential=k2 model=m ready" in out

    code, out, _ = await run_explain(monkeypatch, capsys, "--config", str(path), "--json")
    answer = json.loads(out)
    assert answer["live"] is True
    assert [(c["credential"], c["cooling_until"] is not None) for c in answer["candidates"]] == [
        ("k1", True),
        ("k2", False),
    ]

    code, out, _ = await run_explain(monkeypatch, capsys, "--config", str(path), "--static")
    assert out.startswith("static: --static; decided from the config file alone")
    assert "1. up credential=k1 model=m ready" in out


async def test_without_a_router_the_explanation_is_static_and_says_why(
    openai_fake: OpenAIFake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = cli_config(tmp_path, None, config_for(openai_fake))
    code, out, _ = await run_explain(monkeypatch, capsys, "--config", str(path))
    assert code == 0
    assert out.splitlines()[0].startswith("static: no router answered at http://127.0.0.1:")
    assert "without cooldowns or sticky sessions" in out.splitlines()[0]
    assert "1. up credential=k1 model=m ready" in out


async def test_the_management_secret_guards_the_live_explanation(
    router_factory: StartRouter,
    openai_fake: OpenAIFake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = config_for(openai_fake, management={"secret": SECRET})
    router = await router_factory(config)
    await cool_first_key(router, openai_fake)
    # The plain secret in the config: the command presents it.
    path = cli_config(tmp_path, router, config)
    _, out, _ = await run_explain(monkeypatch, capsys, "--config", str(path))
    assert out.startswith("live: ") and "cooling" in out
    # Only its hash in the config: refused without CLIPROXY_MANAGEMENT_SECRET, and said so.
    hashed = {**config, "management": {"secret": hash_secret(SECRET)}}
    path = cli_config(tmp_path, router, hashed)
    monkeypatch.delenv("CLIPROXY_MANAGEMENT_SECRET", raising=False)
    _, out, _ = await run_explain(monkeypatch, capsys, "--config", str(path))
    assert out.startswith(f"static: the router at {router.url} refused the management secret")
    assert "CLIPROXY_MANAGEMENT_SECRET" in out.splitlines()[0]
    assert SECRET not in out
    monkeypatch.setenv("CLIPROXY_MANAGEMENT_SECRET", SECRET)
    _, out, _ = await run_explain(monkeypatch, capsys, "--config", str(path))
    assert out.startswith("live: ") and "cooling" in out


async def test_the_management_route_answers_errors_in_the_error_shape(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await router_factory(config_for(openai_fake))
    url = router.url + "/v1/management/route/explain"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, params={"format": "nope"}, json=BODY) as response:
            assert response.status == 400
            error = (await response.json())["error"]
            assert error["message"].startswith("format: expected one of openai-chat")
        async with http.post(url, json={"messages": []}) as response:
            assert response.status == 400
            assert "names no model" in (await response.json())["error"]["message"]


async def test_a_live_explanation_does_not_take_a_round_robin_turn(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    config = config_for(openai_fake)
    config["routing"]["strategy"] = "round-robin"
    router = await router_factory(config)
    runtime = router.state.runtime
    plan_targets = runtime.table.resolve("m")
    before = [c.name for c in runtime.selector.credentials_for(plan_targets[0], advance=False)]
    url = router.url + "/v1/management/route/explain"
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.post(url, json=BODY) as response:
                answer = await response.json()
                assert [c["credential"] for c in answer["candidates"]] == before
    taken = [c.credential.name for c in runtime.selector.candidates(plan_targets)]
    assert taken == before
