"""Shared fixtures: fake upstreams (tests/fakes) and an in-process router on a free port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from google import genai

from router.config import read_config
from router.config.event_loop import uvloop_installed
from router.formats.reasoning_cache import REASONING_CACHE
from router.server import RunningRouter, start_router

pytest_plugins = ["tests.fakes.fixtures"]

StartRouter = Callable[..., Awaitable[RunningRouter]]


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The router serves on uvloop when it is installed (router/event_loop.py): tests marked
    ``both_loops`` run on it as well as on the standard loop."""
    if item.get_closest_marker("both_loops") and uvloop_installed():
        import uvloop

        return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture
async def router_factory(tmp_path: Path) -> AsyncIterator[StartRouter]:
    """``await router_factory(config_dict, env={})`` starts a router on a free port.

    Credentials live in ``tmp_path / "auth"`` unless the config names an auth-dir. The
    process-wide reasoning cache starts empty, as it does in a new router process: the
    fakes name tool calls after their tool, so an earlier test's entry would otherwise
    attach its reasoning (signed with another fake's key) to this test's history.
    """
    REASONING_CACHE.__init__()  # type: ignore[misc]  # reset in place: codecs hold it
    running: list[RunningRouter] = []

    async def start(config: dict[str, Any], env: dict[str, str] | None = None) -> RunningRouter:
        config = {"auth-dir": str(tmp_path / "auth"), **config}
        path = tmp_path / f"config{len(running)}.yaml"
        path.write_text(yaml.safe_dump(config))
        router = await start_router(read_config(path, env=env or {}), path, port=0)
        running.append(router)
        return router

    yield start
    for router in running:
        await router.stop()


def provider(name: str, base_url: str, keys: list[Any], models: list[Any], **extra: Any) -> dict:
    """A provider entry for a test config."""
    return {"name": name, "base-url": base_url, "api-keys": keys, "models": models, **extra}


def health_headers(where: RunningRouter | Path) -> dict[str, str]:
    """What a local tool sends to see health details: the relay key, as the router holds it
    or as it is stored in the auth-dir ``where``."""
    if isinstance(where, Path):
        key = (where / "relay.key").read_text().strip()
    else:
        key = where.state.runtime.config.aistudio.relay_key
    return {"Authorization": f"Bearer {key}"}


@contextlib.asynccontextmanager
async def closing_genai(client: genai.Client) -> AsyncIterator[genai.Client]:
    """A google-genai client closed afterwards: one left open logs an error when collected,
    in whichever later test that happens."""
    try:
        yield client
    finally:
        await client.aio.aclose()
