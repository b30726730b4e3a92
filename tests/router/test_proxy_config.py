"""``proxy-url`` in config.yaml: which values are accepted, where each applies, NO_PROXY
parsing, and that the password of a proxy URL is never repeated."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from router.config import read_config
from router.config.proxy import effective_proxy, redact
from router.outbound import NoProxy
from tests.ops.test_envfile_and_checks import run_cliproxy
from tests.router.test_config import problems_for

SECRET = "hunter2-proxy"
EXPECTED = (
    "expected 'direct' or scheme://[user:password@]host:port "
    "with scheme http, https, socks5, socks5h"
)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"ftp://u:{SECRET}@proxy.example:21", "the scheme 'ftp' is not supported"),
        (f"socks5://u:{SECRET}@proxy.example", "no port"),
        (f"http://u:{SECRET}@proxy.example:80/path", "a path or query"),
        ("proxy.example:3128", "the scheme 'proxy.example' is not supported"),
    ],
)
def test_bad_proxy_urls_name_the_key_and_never_the_password(
    tmp_path: Path, url: str, problem: str
) -> None:
    problems = problems_for(tmp_path, {"proxy-url": url})
    assert len(problems) == 1
    assert problems[0].startswith(f"proxy-url: {EXPECTED}; {problem} in ")
    assert SECRET not in problems[0]


def test_a_port_that_is_not_a_number_is_named(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, {"proxy-url": f"http://u:{SECRET}@proxy.example:eighty"})
    assert problems == [
        f"proxy-url: {EXPECTED}; the port of 'http://***@proxy.example:eighty' is not a number"
    ]


def test_every_section_with_a_proxy_url_checks_it(tmp_path: Path) -> None:
    config = {
        "providers": [
            {"name": "up", "base-url": "http://127.0.0.1:9/v1", "proxy-url": "gopher://x:1"}
        ],
        "subscriptions": {
            "claude": {"proxy-url": "gopher://x:1"},
            "chatgpt": {"proxy-url": "gopher://x:1"},
            "ctonew": {"proxy-url": "gopher://x:1"},
        },
        "amp": {"proxy-url": "gopher://x:1"},
    }
    keys = sorted(p.partition(":")[0] for p in problems_for(tmp_path, config))
    assert keys == [
        "amp.proxy-url",
        "providers[0].proxy-url",
        "subscriptions.chatgpt.proxy-url",
        "subscriptions.claude.proxy-url",
        "subscriptions.ctonew.proxy-url",
    ]


def test_a_misspelt_key_gets_a_suggestion(tmp_path: Path) -> None:
    assert problems_for(tmp_path, {"proxy_uri": "http://p:1"}) == [
        "proxy_uri: unknown key (did you mean 'proxy-url'?)"
    ]


def test_the_narrowest_level_wins_and_direct_means_none() -> None:
    assert effective_proxy("", "http://global:1") == "http://global:1"
    assert effective_proxy("socks5://own:1", "http://global:1") == "socks5://own:1"
    assert effective_proxy("direct", "http://global:1") == ""
    assert effective_proxy("", "") == ""


def test_redact_hides_user_and_password_only() -> None:
    assert redact(f"socks5h://me:{SECRET}@p.example:1080") == "socks5h://***@p.example:1080"
    assert redact("http://p.example:3128") == "http://p.example:3128"


@pytest.mark.parametrize(
    ("value", "host", "port", "bypass"),
    [
        ("", "api.openai.com", 443, False),
        ("*", "api.openai.com", 443, True),
        ("openai.com", "api.openai.com", 443, True),
        (".openai.com", "openai.com", 443, True),
        (".openai.com", "notopenai.com", 443, False),
        ("OPENAI.COM.", "Api.OpenAI.com", 443, True),
        ("openai.com:8443", "api.openai.com", 443, False),
        ("openai.com:8443", "api.openai.com", 8443, True),
        ("10.0.0.0/8 192.168.1.5", "10.2.3.4", 80, True),
        ("10.0.0.0/8,192.168.1.5", "192.168.1.6", 80, False),
        ("[::1]:8080", "::1", 8080, True),
        ("::1", "[::1]", 80, True),
        (".0.0.1", "127.0.0.1", 80, False),
    ],
)
def test_no_proxy_matching(value: str, host: str, port: int, bypass: bool) -> None:
    assert NoProxy.parse(value).bypass(host, port) is bypass


@pytest.mark.parametrize(
    ("own", "env", "expected"),
    [
        (None, {"NO_PROXY": "a.example", "no_proxy": "b.example"}, "a.example"),
        (None, {"no_proxy": "b.example"}, "b.example"),
        ("c.example", {"NO_PROXY": "a.example"}, "c.example,a.example"),
        ("c.example", {}, "c.example"),
        (None, {}, ""),
    ],
)
def test_no_proxy_joins_the_config_and_the_environment(
    tmp_path: Path, own: str | None, env: dict[str, str], expected: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({} if own is None else {"no-proxy": own}))
    assert read_config(path, env=env).config.no_proxy == expected


def test_no_proxy_from_the_env_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("{}\n")
    env_file = tmp_path / ".env"
    env_file.write_text("NO_PROXY=internal.example\n")
    env_file.chmod(0o600)
    assert read_config(path, env={}).config.no_proxy == "internal.example"


def test_check_config_shows_each_proxy_without_its_password(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    config = {
        "proxy-url": f"socks5h://me:{SECRET}@proxy.example:1080",
        "providers": [
            {"name": "up", "base-url": "http://127.0.0.1:9/v1", "proxy-url": "direct"},
            {"name": "eu", "base-url": "http://127.0.0.1:9/v1", "proxy-url": "http://p.eu:3128"},
        ],
        "subscriptions": {"chatgpt": {"enabled": False}, "ctonew": {"enabled": False}},
    }
    path.write_text(yaml.safe_dump(config))
    checked = run_cliproxy("check-config", config=path, env={"NO_PROXY": "localhost"})
    assert checked.returncode == 0, checked.stderr
    lines = checked.stdout.splitlines()
    assert "outbound proxy socks5h://***@proxy.example:1080: subscription claude, amp" in lines
    assert "outbound proxy http://p.eu:3128: provider eu" in lines
    assert "no-proxy (reached directly): localhost" in lines
    path.write_text(yaml.safe_dump({"proxy-url": f"socks9://me:{SECRET}@proxy.example:1080"}))
    refused = run_cliproxy("check-config", config=path)
    assert refused.returncode == 2 and "config error: proxy-url: expected" in refused.stderr
    assert SECRET not in refused.stderr + refused.stdout + checked.stdout + checked.stderr
