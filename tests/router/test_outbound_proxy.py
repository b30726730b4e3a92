"""``proxy-url``: upstream requests through a real local HTTP or SOCKS5 proxy, NO_PROXY,
a proxy that is down (a clear error in the client's format, failover), and secrets."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anthropic
import openai
import pytest
import yaml

from router.config.proxy import ProxySetting
from router.credentials import CredentialStore
from router.logs import LineFormatter
from router.ops.doctor import remote_time
from tests.conftest import StartRouter, provider
from tests.fakes.amp import AmpFake
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.behaviours import Reply
from tests.fakes.clerk import ClerkFake
from tests.fakes.enginelabs import Answer, EngineLabsFake
from tests.fakes.oauth import ClaudeOAuthFake
from tests.fakes.openai import OpenAIFake
from tests.fakes.proxy import PASSWORD, LocalProxy, self_signed, unused_port
from tests.router.test_amp_proxy import AMP_KEY
from tests.subscriptions.test_login_and_refresh import claude_section, logged_in, save_claude

MESSAGES = [{"role": "user", "content": "hi"}]
CLAUDE_MODEL = "claude-haiku-4-5-20251001"


def client(url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=url + "/v1", api_key="x", max_retries=0)


def one_provider(fake: OpenAIFake, **extra: object) -> dict:
    return provider("up", fake.base_url + "/v1", [fake.key], ["m"], **extra)


@pytest.fixture(params=["http", "socks5"])
async def proxy(request: pytest.FixtureRequest) -> AsyncIterator[LocalProxy]:
    async with LocalProxy(request.param) as running:
        yield running


async def test_global_proxy_carries_the_request_to_the_upstream(
    router_factory: StartRouter, openai_fake: OpenAIFake, proxy: LocalProxy
) -> None:
    router = await router_factory(
        {"proxy-url": proxy.url, "providers": [one_provider(openai_fake)]}
    )
    openai_fake.script.push(Reply(text="via proxy"))
    reply = await client(router.url).chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "via proxy"
    assert proxy.tunnels == [f"127.0.0.1:{openai_fake.port}"]
    assert proxy.refused == []
    assert len(openai_fake.requests) == 1


async def test_provider_proxy_wins_and_direct_turns_the_global_one_off(
    router_factory: StartRouter, openai_fake: OpenAIFake, proxy: LocalProxy
) -> None:
    async with OpenAIFake() as direct_fake:
        config = {
            "proxy-url": f"http://127.0.0.1:{unused_port()}",
            "providers": [
                one_provider(openai_fake, **{"proxy-url": proxy.url}),
                provider(
                    "plain", direct_fake.base_url + "/v1", [direct_fake.key], ["d"],
                    **{"proxy-url": "direct"},
                ),
            ],
        }  # fmt: skip
        router = await router_factory(config)
        openai_fake.script.push(Reply(text="proxied"))
        direct_fake.script.push(Reply(text="direct"))
        answers = [
            await client(router.url).chat.completions.create(model=m, messages=MESSAGES)
            for m in ("m", "d")
        ]
    assert [a.choices[0].message.content for a in answers] == ["proxied", "direct"]
    assert proxy.tunnels == [f"127.0.0.1:{openai_fake.port}"]


@pytest.mark.parametrize(
    ("variable", "value", "host", "proxied"),
    [
        ("NO_PROXY", "127.0.0.1", "127.0.0.1", False),
        ("NO_PROXY", "10.0.0.0/8, 127.0.0.0/8", "127.0.0.1", False),
        ("NO_PROXY", "*", "127.0.0.1", False),
        ("NO_PROXY", "example.com,127.0.0.1:{port}", "127.0.0.1", False),
        ("no_proxy", ".localhost", "localhost", False),
        ("no_proxy", "localhost", "127.0.0.1", True),
        ("NO_PROXY", "127.0.0.1:{other}", "127.0.0.1", True),
    ],
)
async def test_no_proxy_destinations_go_direct(
    router_factory: StartRouter,
    openai_fake: OpenAIFake,
    variable: str,
    value: str,
    host: str,
    proxied: bool,
) -> None:
    env = {variable: value.format(port=openai_fake.port, other=openai_fake.port + 1)}
    async with LocalProxy("socks5") as proxy:
        base = f"http://{host}:{openai_fake.port}/v1"
        up = provider("up", base, [openai_fake.key], ["m"])
        router = await router_factory({"proxy-url": proxy.url, "providers": [up]}, env=env)
        openai_fake.script.push(Reply(text="ok"))
        await client(router.url).chat.completions.create(model="m", messages=MESSAGES)
    assert proxy.tunnels == ([f"{host}:{openai_fake.port}"] if proxied else [])
    assert len(openai_fake.requests) == 1


async def test_a_proxy_that_is_down_is_a_clear_error_in_the_clients_format(
    router_factory: StartRouter, openai_fake: OpenAIFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    down = f"socks5://someone:{PASSWORD}@127.0.0.1:{unused_port()}"
    router = await router_factory(
        {"proxy-url": down, "routing": {"max-retries": 0}, "providers": [one_provider(openai_fake)]}
    )
    with pytest.raises(openai.APIStatusError) as caught:
        await client(router.url).chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.status_code == 502
    message = caught.value.body["message"]  # type: ignore[index]
    assert "upstream up unreachable: proxy socks5://***@127.0.0.1:" in message
    assert "Couldn't connect to proxy" in message
    assert PASSWORD not in str(caught.value.body)
    lines = "\n".join(LineFormatter().format(r) for r in caplog.records)
    assert "proxy socks5://***@127.0.0.1" in lines and PASSWORD not in lines
    assert openai_fake.requests == []


async def test_wrong_proxy_password_fails_over_to_the_next_provider(
    router_factory: StartRouter, openai_fake: OpenAIFake, proxy: LocalProxy
) -> None:
    async with OpenAIFake() as second:
        wrong = proxy.url.replace(PASSWORD, "not-the-password")
        config = {
            "routing": {"retry-backoff": 0.01},
            "providers": [
                one_provider(openai_fake, **{"proxy-url": wrong}),
                provider("second", second.base_url + "/v1", [second.key], ["m"]),
            ],
        }
        router = await router_factory(config)
        second.script.push(Reply(text="from second"))
        reply = await client(router.url).chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "from second"
    assert proxy.tunnels == [] and len(proxy.refused) == 1
    assert openai_fake.requests == []


async def test_oauth_refresh_and_the_api_call_go_through_the_subscription_proxy(
    router_factory: StartRouter,
    anthropic_fake: AnthropicFake,
    tmp_path,
) -> None:
    async with (
        ClaudeOAuthFake(emails=("ada@example.com",)) as oauth,
        LocalProxy("socks5") as proxy,
    ):
        oauth.on_issue = anthropic_fake.oauth_tokens.append
        access, refresh = await logged_in(oauth)
        save_claude(tmp_path, access, refresh, expires_in=-10)
        section = claude_section(oauth, anthropic_fake, **{"proxy-url": proxy.url})
        router = await router_factory({"subscriptions": {"claude": section}})
        anthropic_fake.script.push(Reply(text="fresh"))
        answer = await anthropic.AsyncAnthropic(base_url=router.url, api_key="x").messages.create(
            model=CLAUDE_MODEL, max_tokens=16, messages=MESSAGES
        )
    assert answer.content[0].text == "fresh"
    assert oauth.token_calls["refresh_token"] == 1
    assert sorted(proxy.tunnels) == sorted(
        [f"127.0.0.1:{oauth.port}", f"127.0.0.1:{anthropic_fake.port}"]
    )


async def test_amp_backend_calls_go_through_the_amp_proxy(
    router_factory: StartRouter, proxy: LocalProxy
) -> None:
    async with AmpFake([AMP_KEY]) as amp:
        section = {"upstream-url": amp.base_url, "api-key": AMP_KEY, "proxy-url": proxy.url}
        router = await router_factory({"amp": section})
        async with (
            aiohttp.ClientSession() as http,
            http.post(router.url + "/api/internal?getUserInfo", json={}) as response,
        ):
            assert response.status == 200, await response.text()
    assert proxy.tunnels == [f"127.0.0.1:{amp.port}"]


async def test_doctors_clock_check_asks_through_the_proxy(openai_fake: OpenAIFake) -> None:
    async with LocalProxy("http") as proxy:
        remote = await remote_time(openai_fake.base_url, ProxySetting(proxy.url))
    assert remote == pytest.approx(time.time(), abs=5)
    assert proxy.tunnels == [f"127.0.0.1:{openai_fake.port}"]


async def test_https_proxy_speaks_tls_to_the_proxy_and_checks_its_certificate(
    router_factory: StartRouter,
    openai_fake: OpenAIFake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cert, key = self_signed(tmp_path)
    async with LocalProxy("https", certificate=(cert, key)) as proxy:
        up = one_provider(openai_fake)
        untrusted = await router_factory({"proxy-url": proxy.url, "providers": [up]})
        with pytest.raises(openai.APIStatusError) as caught:
            await client(untrusted.url).chat.completions.create(model="m", messages=MESSAGES)
        assert caught.value.status_code == 502
        message = caught.value.body["message"]  # type: ignore[index]
        assert f"proxy https://***@127.0.0.1:{proxy.port} TLS failed" in message
        assert "CERTIFICATE_VERIFY_FAILED" in message
        assert proxy.tunnels == []
        # Trusted (as a private CA would be): the request goes through the TLS tunnel.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        trusted = await router_factory({"proxy-url": proxy.url, "providers": [up]})
        openai_fake.script.push(Reply(text="over tls"))
        reply = await client(trusted.url).chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "over tls"
    assert proxy.tunnels == [f"127.0.0.1:{openai_fake.port}"]


async def test_ctonew_clerk_api_and_chat_websocket_go_through_the_proxy(
    router_factory: StartRouter, tmp_path: Path
) -> None:
    async with (
        ClerkFake() as clerk,
        EngineLabsFake(clerk) as engine,
        LocalProxy("socks5") as proxy,
    ):
        account = clerk.add_account(user_id="user_p", session_id="sess_p")
        CredentialStore(tmp_path / "auth").save(
            "ctonew", "ctonew-work", {"client_cookie": account.cookie, "label": "work"}
        )
        section = {
            "clerk-url": clerk.base_url,
            "api-base": engine.base_url,
            "ws-base": engine.ws_base,
            "proxy-url": proxy.url,
        }
        router = await router_factory(
            {"subscriptions": {"ctonew": section, "claude": {"enabled": False}}}
        )
        engine.answers.append(Answer(text="via socks"))
        reply = await client(router.url).chat.completions.create(
            model="ctonew-gpt-5", messages=MESSAGES
        )
    assert reply.choices[0].message.content == "via socks"
    # Clerk's session tokens, and the engine's HTTP calls and chat WebSocket (one origin).
    assert set(proxy.tunnels) == {f"127.0.0.1:{clerk.port}", f"127.0.0.1:{engine.port}"}


async def test_the_login_token_exchange_goes_through_the_subscription_proxy(
    router_factory: StartRouter, tmp_path: Path
) -> None:
    async with (
        ClaudeOAuthFake(emails=("ada@example.com",)) as oauth,
        LocalProxy("http") as proxy,
        aiohttp.ClientSession() as http,
    ):
        section = claude_section(oauth, **{"proxy-url": proxy.url})
        router = await router_factory({"subscriptions": {"claude": section}})
        async with http.get(router.url + "/v1/auth/llmux/claude/login") as response:
            started = await response.json()
        pasted = await oauth.authorize_paste(started["url"])
        callback = router.url + "/v1/auth/llmux/claude/callback"
        async with http.post(callback, json={"code": pasted}) as response:
            assert response.status == 200, await response.text()
    assert oauth.token_calls["authorization_code"] == 1
    assert proxy.tunnels == [f"127.0.0.1:{oauth.port}"]
    assert (tmp_path / "auth" / "claude-ada@example.com.json").exists()


def set_proxy(path: Path, url: str) -> None:
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "proxy-url": url}))


async def test_a_reload_moves_new_connections_to_the_new_proxy(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    async with LocalProxy("http") as first, LocalProxy("socks5") as second:
        router = await router_factory(
            {"proxy-url": first.url, "providers": [one_provider(openai_fake)]}
        )
        openai_fake.script.push(Reply(text="one"))
        await client(router.url).chat.completions.create(model="m", messages=MESSAGES)
        set_proxy(Path(str(router.state.config_path)), second.url)
        assert await router.state.reload()
        openai_fake.script.push(Reply(text="two"))
        reply = await client(router.url).chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "two"
    assert first.tunnels == second.tunnels == [f"127.0.0.1:{openai_fake.port}"]


@pytest.mark.parametrize(
    ("scheme", "asked_for"), [("socks5", "127.0.0.1"), ("socks5h", "localhost")]
)
async def test_socks5_resolves_names_here_and_socks5h_leaves_them_to_the_proxy(
    router_factory: StartRouter, openai_fake: OpenAIFake, scheme: str, asked_for: str
) -> None:
    async with LocalProxy("socks5") as proxy:
        url = proxy.url.replace("socks5://", f"{scheme}://")
        up = provider("up", f"http://localhost:{openai_fake.port}/v1", [openai_fake.key], ["m"])
        router = await router_factory({"proxy-url": url, "providers": [up]})
        openai_fake.script.push(Reply(text="ok"))
        await client(router.url).chat.completions.create(model="m", messages=MESSAGES)
    assert proxy.tunnels == [f"{asked_for}:{openai_fake.port}"]
