"""The webai sidecar hands the proxy in force to g4f (which every provider uses) and never
shows its password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from providers.webai.main import settings
from router.config import load_config
from tests.webai.test_chat_completions import chat_body, post_chat

PROXY = "socks5h://me:webai-proxy-pw@proxy.example:1080"


@pytest.mark.parametrize(
    ("top", "own", "expected"),
    [
        (PROXY, "", PROXY),
        (PROXY, "http://other.example:3128", "http://other.example:3128"),
        (PROXY, "direct", ""),
        ("", "", ""),
    ],
)
def test_webai_takes_its_own_proxy_else_the_top_level_one(
    tmp_path: Path, top: str, own: str, expected: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"proxy-url": top, "webai": {"proxy-url": own}}))
    assert settings(load_config(path, env={})).proxy_url == expected


async def test_g4f_providers_get_the_proxy(start_service: Any) -> None:
    base_url = await start_service("ProxyEcho", proxy_url=PROXY)
    status, body = await post_chat(base_url, chat_body())
    assert status == 200
    assert body["choices"][0]["message"]["content"] == PROXY
    direct = await start_service("ProxyEcho")
    _, body = await post_chat(direct, chat_body())
    assert body["choices"][0]["message"]["content"] == "none"


async def test_a_provider_error_naming_the_proxy_hides_its_password(start_service: Any) -> None:
    base_url = await start_service("ProxyFailure", proxy_url=PROXY)
    status, body = await post_chat(base_url, chat_body())
    assert status == 502
    message = body["error"]["message"]
    assert "ProxyFailure: ConnectionError: Cannot connect to proxy" in message
    assert "webai-proxy-pw" not in message
