"""The request-origin policy over HTTP: Host (DNS rebinding), Origin, CORS, simple requests."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
import yaml

from router.config import ConfigError, read_config
from router.security.origin import OriginPolicy
from router.server import RunningRouter
from tests.conftest import StartRouter, provider
from tests.fakes.behaviours import Reply
from tests.fakes.clerk import client_cookie_value
from tests.fakes.openai import OpenAIFake

REBOUND_HOST = "evil.example:8317"
ATTACKER = "http://evil.example"
APP = "http://app.example:3000"
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
# Only the Content-Type a test names is sent, as a browser would (aiohttp adds one).
NO_AUTO = ("Content-Type",)
PERMISSION = {"openai": "permission_error", "anthropic": "permission_error"}


def cookie_body() -> str:
    return json.dumps({"cookie": client_cookie_value("client_attacker"), "label": "attacker"})


def ctonew_files(router: RunningRouter) -> list[str]:
    return sorted(p.name for p in router.state.credentials.directory.glob("ctonew-*.json"))


async def start(router_factory: StartRouter, fake: OpenAIFake, **extra: Any) -> RunningRouter:
    config = {"providers": [provider("up", fake.base_url + "/v1", [fake.key], ["gpt-4o"])], **extra}
    return await router_factory(config)


async def call(
    router: RunningRouter, method: str, path: str, headers: dict[str, str], data: Any = None
) -> tuple[int, Any, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, router.url + path, headers=headers, data=data, skip_auto_headers=NO_AUTO
        ) as response,
    ):
        text = await response.text()
        body = json.loads(text) if text else None
        return response.status, body, response.headers


async def test_rebound_host_gets_421_in_the_callers_format(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await start(router_factory, openai_fake)
    host = {"Host": REBOUND_HOST}
    chat = openai.AsyncOpenAI(
        base_url=router.url + "/v1", api_key="x", max_retries=0, default_headers=host
    )
    with pytest.raises(openai.APIStatusError) as refused_chat:
        await chat.chat.completions.create(**CHAT)
    assert refused_chat.value.status_code == 421
    assert refused_chat.value.body["type"] == PERMISSION["openai"]
    assert "public-hosts" in refused_chat.value.message

    messages = anthropic.AsyncAnthropic(
        base_url=router.url, api_key="x", max_retries=0, default_headers=host
    )
    with pytest.raises(anthropic.APIStatusError) as refused_messages:
        await messages.messages.create(
            model="gpt-4o", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    assert refused_messages.value.status_code == 421
    assert refused_messages.value.body["type"] == "error"
    assert refused_messages.value.body["error"]["type"] == PERMISSION["anthropic"]

    status, body, _ = await call(
        router,
        "POST",
        "/v1beta/models/gpt-4o:generateContent",
        host,
        json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
    )
    assert (status, body["error"]["code"], body["error"]["status"]) == (
        421,
        421,
        "PERMISSION_DENIED",
    )
    assert openai_fake.requests == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/models"),
        ("GET", "/v1/health"),
        ("GET", "/v1/auth/ctonew/status"),
        ("POST", "/v1/auth/aistudio/login"),
        ("DELETE", "/v1/auth/llmux/claude"),
        ("GET", "/v1/management/cooldowns"),
        ("POST", "/v1/management/cooldowns/reset"),
        ("GET", "/v1/ws"),
    ],
)
async def test_rebound_host_reaches_no_route(
    router_factory: StartRouter, openai_fake: OpenAIFake, method: str, path: str
) -> None:
    router = await start(router_factory, openai_fake)
    status, body, headers = await call(router, method, path, {"Host": REBOUND_HOST})
    assert status == 421
    assert body["error"]["type"] == "permission_error"
    assert "Access-Control-Allow-Origin" not in headers


async def test_rebound_host_stores_no_login(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await start(router_factory, openai_fake)
    headers = {"Host": REBOUND_HOST, "Content-Type": "application/json"}
    status, _, _ = await call(router, "POST", "/v1/auth/ctonew", headers, cookie_body())
    assert status == 421
    assert ctonew_files(router) == []


async def test_loopback_names_and_public_hosts_are_served(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await start(router_factory, openai_fake, **{"public-hosts": ["cliproxy.lan"]})
    port = router.url.rsplit(":", 1)[1]
    served = [
        f"127.0.0.1:{port}",
        "127.0.0.1",
        f"localhost:{port}",
        f"LOCALHOST:{port}",
        f"127.9.8.7:{port}",
        f"[::1]:{port}",
        f"app.localhost:{port}",
        f"cliproxy.lan:{port}",
        "CLIPROXY.LAN.",
    ]
    for host in served:
        status, _, _ = await call(router, "GET", "/v1/models", {"Host": host})
        assert status == 200, host
    for host in ("cliproxy.lan.evil.example", "localhost.evil.example", "10.0.0.8", "[::2]"):
        status, _, _ = await call(router, "GET", "/v1/models", {"Host": host})
        assert status == 421, host


def test_a_wildcard_bind_serves_addresses_but_not_foreign_names(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"host": "0.0.0.0", "api-keys": ["k"]}))
    policy = OriginPolicy.from_config(read_config(path, env={}).config)
    assert policy.serves_host("192.168.1.20:8317")
    assert policy.serves_host("[fe80::1]:8317")
    assert not policy.serves_host("mybox.lan:8317")
    path.write_text(yaml.safe_dump({"host": "192.168.1.20", "api-keys": ["k"]}))
    policy = OriginPolicy.from_config(read_config(path, env={}).config)
    assert policy.serves_host("192.168.1.20:8317")
    assert not policy.serves_host("192.168.1.21:8317")


def test_origin_matching(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    origins = ["https://*.example.com", "https://app.test:443", "http://localhost:3000"]
    path.write_text(yaml.safe_dump({"cors-origins": origins}))
    policy = OriginPolicy.from_config(read_config(path, env={}).config)
    admitted = ["https://a.example.com", "https://a.b.example.com", "https://app.test"]
    admitted += ["HTTPS://APP.TEST:443", "http://localhost:3000"]
    for origin in admitted:
        assert policy.admits_origin(origin, "/v1/chat/completions"), origin
    refused = ["https://example.com", "http://a.example.com", "https://a.example.com:8443"]
    refused += ["https://evilexample.com", "http://localhost:3001", "null", "", "app.test"]
    refused += ["https://aistudio.google.com", "https://x-h1.scf.usercontent.goog"]
    for origin in refused:
        assert not policy.admits_origin(origin, "/v1/chat/completions"), origin
    for origin in ("https://aistudio.google.com", "https://2o7m-h77.scf.usercontent.goog"):
        assert policy.admits_origin(origin, "/v1/ws"), origin
    assert policy.admits_origin("https://a.example.com", "/v1/ws")
    assert not policy.admits_origin("https://scf.usercontent.goog.evil.example", "/v1/ws")


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Origin": ATTACKER, "Content-Type": "text/plain"}, "cors-origins"),
        ({"Origin": "null", "Content-Type": "text/plain"}, "Origin: null"),
        ({"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}, "cross-site"),
        (
            {"Sec-Fetch-Site": "same-site", "Content-Type": "application/x-www-form-urlencoded"},
            "same-site",
        ),
        ({"Origin": ATTACKER, "Content-Type": "application/json"}, "cors-origins"),
    ],
)
async def test_cross_site_login_is_refused_and_stores_nothing(
    router_factory: StartRouter, openai_fake: OpenAIFake, headers: dict[str, str], why: str
) -> None:
    router = await start(router_factory, openai_fake)
    status, body, answer_headers = await call(
        router, "POST", "/v1/auth/ctonew", headers, cookie_body()
    )
    assert status == 403
    assert body["error"]["type"] == "permission_error" and why in body["error"]["message"]
    assert "Access-Control-Allow-Origin" not in answer_headers
    assert ctonew_files(router) == []


async def test_cross_site_subresource_loads_of_management_routes_are_refused(
    router_factory: StartRouter, openai_fake: OpenAIFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="router.request")
    router = await start(router_factory, openai_fake)
    image = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
    status, body, _ = await call(router, "GET", "/v1/auth/ctonew/status", image)
    assert status == 403 and "Sec-Fetch-Site: cross-site" in body["error"]["message"]
    refused = [r.fields for r in caplog.records if r.name == "router.request"]
    assert refused[-1]["refused"] == "cross_site" and refused[-1]["status"] == 403
    navigation = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    status, _, _ = await call(router, "GET", "/v1/auth/ctonew/status", navigation)
    assert status == 200
    status, _, _ = await call(router, "GET", "/v1/models", image)
    assert status == 200


async def test_cross_site_generation_and_preflight_are_refused(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await start(router_factory, openai_fake)
    simple = {"Origin": ATTACKER, "Content-Type": "text/plain"}
    status, body, headers = await call(
        router, "POST", "/v1/chat/completions", simple, json.dumps(CHAT)
    )
    assert status == 403 and body["error"]["type"] == "permission_error"
    assert "Access-Control-Allow-Origin" not in headers
    preflight = {
        "Origin": ATTACKER,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    status, body, headers = await call(router, "OPTIONS", "/v1/chat/completions", preflight)
    assert status == 403
    assert not [h for h in headers if h.lower().startswith("access-control-")]
    assert openai_fake.requests == []


async def test_non_browser_clients_are_untouched(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    """curl sends neither Origin nor Sec-Fetch-*: even a form-typed login goes through."""
    router = await start(router_factory, openai_fake)
    curl = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "curl/8.5.0"}
    status, body, _ = await call(router, "POST", "/v1/auth/ctonew", curl, cookie_body())
    assert status == 200 and body["status"] == "stored"
    assert ctonew_files(router) == ["ctonew-attacker.json"]
    openai_fake.script.push(Reply(text="hello"))
    chat = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="x", max_retries=0)
    answer = await chat.chat.completions.create(**CHAT)
    assert answer.choices[0].message.content == "hello"


async def test_allowed_origin_gets_preflight_and_cors_headers(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await start(router_factory, openai_fake, **{"cors-origins": [APP]})
    preflight = {
        "Origin": APP,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os",
        "Access-Control-Request-Private-Network": "true",
    }
    status, body, headers = await call(router, "OPTIONS", "/v1/chat/completions", preflight)
    assert (status, body) == (204, None)
    assert headers["Access-Control-Allow-Origin"] == APP
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == preflight["Access-Control-Request-Headers"]
    assert headers["Access-Control-Allow-Private-Network"] == "true"
    assert "Origin" in headers.getall("Vary")
    assert int(headers["Access-Control-Max-Age"]) > 0

    openai_fake.script.push(Reply(text="from the app"))
    page = {"Origin": APP, "Content-Type": "application/json", "Authorization": "Bearer x"}
    status, body, headers = await call(
        router, "POST", "/v1/chat/completions", page, json.dumps(CHAT)
    )
    assert status == 200 and body["choices"][0]["message"]["content"] == "from the app"
    assert headers["Access-Control-Allow-Origin"] == APP
    assert "X-Request-Id" in headers["Access-Control-Expose-Headers"]
    assert "Origin" in headers.getall("Vary")

    openai_fake.script.push(Reply(text="streamed"))
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            router.url + "/v1/chat/completions", headers=page, json={**CHAT, "stream": True}
        ) as response,
    ):
        assert response.headers["Access-Control-Allow-Origin"] == APP
        assert "streamed" in await response.text()

    other = {"Origin": "http://app.example:3001", "Content-Type": "application/json"}
    status, _, headers = await call(router, "POST", "/v1/chat/completions", other, "{}")
    assert status == 403 and "Access-Control-Allow-Origin" not in headers


async def test_allowed_origin_still_cannot_send_simple_state_changes(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await start(router_factory, openai_fake, **{"cors-origins": [APP]})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        headers = {"Origin": APP} | ({"Content-Type": content_type} if content_type else {})
        status, body, _ = await call(router, "POST", "/v1/auth/ctonew", headers, cookie_body())
        assert status == 403, content_type
        assert "application/json" in body["error"]["message"]
    status, _, _ = await call(router, "POST", "/v1/management/cooldowns/reset", {"Origin": APP})
    assert status == 403
    assert ctonew_files(router) == []
    headers = {"Origin": APP, "Content-Type": "application/json"}
    status, body, answer_headers = await call(
        router, "POST", "/v1/auth/ctonew", headers, cookie_body()
    )
    assert status == 200 and body["status"] == "stored"
    assert answer_headers["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"cors-origins": ["*"]}, "cors-origins[0]: '*' is not allowed"),
        ({"cors-origins": ["https://ok.example", "null"]}, "cors-origins[1]: 'null' is not"),
        ({"cors-origins": ["https://app.example/path"]}, "cors-origins[0]: expected an origin"),
        ({"cors-origins": ["app.example"]}, "cors-origins[0]: expected an origin"),
        ({"public-hosts": ["http://cliproxy.lan"]}, "public-hosts[0]: expected a host name"),
        ({"public-hosts": ["cliproxy.lan:8317"]}, "public-hosts[0]: expected a host name"),
    ],
)
def test_config_rejects_origins_and_hosts_that_are_not(
    tmp_path: Path, config: dict, expected: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as caught:
        read_config(path, env={})
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def update_config(path: Path, origins: list[str], hosts: list[str]) -> None:
    config = yaml.safe_load(path.read_text())
    config.update({"cors-origins": origins, "public-hosts": hosts})
    path.write_text(yaml.safe_dump(config))


async def test_a_reload_applies_new_origins_and_hosts(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await start(router_factory, openai_fake)
    probe = {"Origin": APP, "Host": "cliproxy.lan"}
    status, _, _ = await call(router, "GET", "/v1/models", probe)
    assert status == 421
    update_config(Path(str(router.state.config_path)), [APP], ["cliproxy.lan"])
    assert await router.state.reload()
    status, _, headers = await call(router, "GET", "/v1/models", probe)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == APP


async def test_a_request_without_host_is_served(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    """HTTP/1.0 tools may omit Host; browsers never do, so it cannot be a rebound page."""
    router = await start(router_factory, openai_fake)
    host, port = router.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /v1/models HTTP/1.0\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    assert status_line.split()[1] == b"200"


async def test_a_page_the_router_served_may_call_back_to_the_same_host(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    """The dashboard's own POSTs carry the router's origin; a look-alike origin does not pass."""
    router = await start(router_factory, openai_fake)
    own = router.url
    reset = "/v1/management/cooldowns/reset"
    status, body, _ = await call(
        router, "POST", reset, {"Origin": own, "Content-Type": "application/json"}, "{}"
    )
    assert status == 200 and body["cleared"] == 0
    port = own.rsplit(":", 1)[1]
    for other in (f"http://127.0.0.1:{int(port) + 1}", f"http://localhost.evil.example:{port}"):
        status, body, _ = await call(
            router, "POST", reset, {"Origin": other, "Content-Type": "application/json"}, "{}"
        )
        assert status == 403, other
        assert "cors-origins" in body["error"]["message"]


async def test_management_health_shows_details_behind_the_management_guard(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    router = await start(router_factory, openai_fake)
    status, public, _ = await call(router, "GET", "/v1/health", {})
    assert status == 200 and "providers" not in public
    status, detailed, _ = await call(router, "GET", "/v1/management/health", {})
    assert status == 200 and detailed["providers"]["up"]["credentials"] == ["key1"]
    status, _, _ = await call(router, "GET", "/v1/management/health", {"Host": REBOUND_HOST})
    assert status == 421
