"""Fixtures for the WebAI service tests: in-process service, config builder, network guard."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from providers.webai.http_server import start_webai
from router.config import WebAIConfig
from tests.webai import g4f_test_providers
from tests.webai.helpers import KEY, provider_spec

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Refuse and record any attempt to resolve or reach a non-loopback address."""
    attempts: list[Any] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and str(host) not in LOOPBACK_HOSTS:
            attempts.append(("getaddrinfo", host))
            raise OSError(f"network disabled in tests: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK_HOSTS:
            attempts.append(("connect", address))
            raise OSError(f"network disabled in tests: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield attempts
    assert attempts == [], f"code under test tried to reach the network: {attempts}"


@pytest.fixture(autouse=True)
def clear_provider_events() -> None:
    g4f_test_providers.EVENTS.clear()


@pytest.fixture
def webai_config(tmp_path: Path) -> Callable[..., WebAIConfig]:
    """Build a WebAIConfig for test providers given by class name; keywords override fields."""

    def make(*providers: str, **overrides: Any) -> WebAIConfig:
        fields: dict[str, Any] = {
            "enabled": True,
            "host": "127.0.0.1",
            "port": 0,
            "key": KEY,
            "timeout": 5.0,
            "providers": tuple(provider_spec(name) for name in providers),
            "cookies_dir": str(tmp_path / "cookies"),
            "models": {"gpt-webai": "test-model"},
        }
        fields.update(overrides)
        return WebAIConfig(**fields)

    return make


@pytest.fixture
async def start_service(
    webai_config: Callable[..., WebAIConfig],
) -> AsyncIterator[Callable[..., Any]]:
    """Start the service in-process on a free port; returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(*providers: str, **overrides: Any) -> str:
        runner, base_url = await start_webai(webai_config(*providers, **overrides))
        runners.append(runner)
        return base_url

    yield start
    for runner in runners:
        await runner.cleanup()
