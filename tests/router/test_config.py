"""Config validation: every problem is one line naming the key path and what was expected."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from router.config import Config, ConfigError, load_config, read_config
from router.config.binder import yaml_key
from router.config.cache import RouteCacheConfig
from router.config.rules import RuleConditions, RuleConfig, RuleOverrides

REPO = Path(__file__).resolve().parents[2]


def problems_for(tmp_path: Path, config: object, env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config) if not isinstance(config, str) else config)
    with pytest.raises(ConfigError) as caught:
        read_config(path, env=env or {})
    return caught.value.problems


def test_wrong_type_names_key_and_expectation(tmp_path: Path) -> None:
    assert problems_for(tmp_path, {"port": "eighty"}) == [
        "port: expected an integer, got the string 'eighty'"
    ]


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, {"routing": {"stratgy": "fill-first"}})
    assert problems == ["routing.stratgy: unknown key (did you mean 'strategy'?)"]


def test_bad_regex_and_url_and_duplicate_names(tmp_path: Path) -> None:
    config = {
        "providers": [
            {"name": "a", "base-url": "ftp://example"},
            {"name": "a", "base-url": "http://127.0.0.1:1/v1"},
        ],
        "routes": [{"model": "re:gpt-[", "providers": ["a"]}],
    }
    problems = problems_for(tmp_path, config)
    assert "providers[0].base-url: expected an absolute http/https URL, got 'ftp://example'" in (
        problems
    )
    assert any(p.startswith("routes[0].model: invalid regular expression") for p in problems)


def test_duplicate_provider_name(tmp_path: Path) -> None:
    config = {
        "providers": [
            {"name": "a", "base-url": "http://127.0.0.1:1/v1"},
            {"name": "a", "base-url": "http://127.0.0.1:2/v1"},
        ]
    }
    assert problems_for(tmp_path, config) == ["providers: duplicate name 'a'"]


def test_reserved_provider_names(tmp_path: Path) -> None:
    config = {
        "webai": {"enabled": True, "key": "k", "providers": ["Gemini"]},
        "providers": [
            {"name": "webai", "base-url": "http://127.0.0.1:1/v1"},
            {"name": "aistudio", "base-url": "http://127.0.0.1:2/v1"},
            {"name": "llmux-claude", "base-url": "http://127.0.0.1:3/v1"},
        ],
    }
    assert problems_for(tmp_path, config) == [
        "providers: the name 'webai' is taken by webai.enabled",
        "providers: the name 'aistudio' is reserved for a built-in",
        "providers: the name 'llmux-claude' is reserved for a built-in",
    ]


def test_route_to_unknown_provider_suggests(tmp_path: Path) -> None:
    config = {
        "providers": [{"name": "openai", "base-url": "http://127.0.0.1:1/v1"}],
        "routes": [{"model": "gpt-*", "providers": ["opena"]}],
    }
    assert problems_for(tmp_path, config) == [
        "routes[0].providers[0]: unknown provider 'opena' (did you mean 'openai'?)"
    ]


def test_non_loopback_host_without_keys_is_refused(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, {"host": "0.0.0.0"})
    assert len(problems) == 1
    assert problems[0].startswith("host: refusing to serve '0.0.0.0' without api-keys")
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump({"host": "0.0.0.0", "api-keys": ["k"]}))
    assert load_config(path, env={}).host == "0.0.0.0"


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "port: [1,\n")
    assert len(problems) == 1 and "line" in problems[0]


def test_environment_references_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "log-level: ${LEVEL:-warning}\n"
        "providers:\n"
        "  - name: p\n"
        "    base-url: http://127.0.0.1:9/v1\n"
        "    api-keys: ['${SECRET}', '${ABSENT}']\n"
    )
    loaded = read_config(path, env={"SECRET": "s3cret"})
    assert loaded.config.log_level == "warning"
    assert [c.key for c in loaded.config.providers[0].api_keys] == ["s3cret", ""]
    assert loaded.unset_env == {"providers[0].api-keys[1]": "ABSENT"}


def test_cliproxy_overrides(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("port: 1000\n")
    env = {"CLIPROXY_PORT": "2000", "CLIPROXY_HOST": "::1", "CLIPROXY_LOG_LEVEL": "debug"}
    config = load_config(path, env=env)
    assert (config.port, config.host, config.log_level) == (2000, "::1", "debug")
    assert problems_for(tmp_path, {}, env={"CLIPROXY_PORT": "x"}) == [
        "CLIPROXY_PORT: expected an integer, got 'x'"
    ]


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.yaml"
    path.write_text("port: 4321\n")
    assert load_config(env={"CLIPROXY_CONFIG": str(path)}).port == 4321
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(env={"CLIPROXY_CONFIG": str(tmp_path / "missing.yaml")})


def test_example_config_is_valid_and_documents_every_key() -> None:
    example = REPO / "config.example.yaml"
    config = load_config(example, env={})
    assert config.providers == () and config.api_keys == ()
    text = example.read_text()
    nested = {
        "timeouts": config.timeouts,
        "routing": config.routing,
        "cooldown": config.routing.cooldown,
        "sticky": config.routing.sticky,
        "streaming": config.streaming,
        "webai": config.webai,
        "aistudio": config.aistudio,
        "subscriptions": config.subscriptions,
        "claude": config.subscriptions.claude,
        "chatgpt": config.subscriptions.chatgpt,
        "ctonew": config.subscriptions.ctonew,
        "management": config.management,
        "metrics": config.metrics,
        "usage": config.usage,
        "response-cache": config.response_cache,
    }
    for section in [config, *nested.values()]:
        for f in fields(section):
            assert f"{yaml_key(f.name)}:" in text, f"config.example.yaml lacks {yaml_key(f.name)}"
    provider_keys = ("name", "kind", "base-url", "enabled", "api-keys", "headers", "models")
    for key in provider_keys:
        assert f"{key}:" in text
    assert "weight:" in text
    for rule_class in (RuleConfig, RuleConditions, RuleOverrides, RouteCacheConfig):
        for f in fields(rule_class):
            assert yaml_key(f.name) in text, f"config.example.yaml lacks rules' {yaml_key(f.name)}"


def test_check_config_cli_exit_status(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("prot: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "router", "check-config", "--config", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "config error: prot: unknown key (did you mean 'port'?)"
    good = subprocess.run(
        [
            sys.executable,
            "-m",
            "router",
            "check-config",
            "--config",
            str(REPO / "config.example.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert good.returncode == 0, good.stderr


def test_serve_refuses_bad_config_before_binding(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("host: 0.0.0.0\n")
    result = subprocess.run(
        [sys.executable, "-m", "router", "--config", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=30,
    )
    assert result.returncode == 2
    assert "without api-keys" in result.stderr


def test_defaults_without_a_file() -> None:
    assert Config().port == 8317


def test_every_provider_kind_has_an_upstream_class() -> None:
    from router.config.schema import PROVIDER_KINDS
    from router.upstreams.registry import UPSTREAM_KINDS

    assert set(UPSTREAM_KINDS) == set(PROVIDER_KINDS)


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "config.yaml"
        config.write_text(f"port: {port}\n")
        result = subprocess.run(
            [sys.executable, "-m", "router", "--config", str(config)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=30,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_management_and_subscription_problems_name_their_keys(tmp_path: Path) -> None:
    config = {
        "management": {"secret": "scrypt$16384$8", "allow-remote": True},
        "subscriptions": {
            "claude": {"token-url": "not a url", "models": ["re:("]},
            "ctonew": {"fallback-for": {"gpt-5*": "no-such-model"}, "wire-version": "v9"},
        },
    }
    problems = problems_for(tmp_path, config)
    assert any(p.startswith("management.secret: expected a plain secret") for p in problems)
    assert any(
        p.startswith("subscriptions.claude.token-url: expected an absolute") for p in problems
    )
    assert any(p.startswith("subscriptions.claude.models[0]: invalid regular") for p in problems)
    assert any(
        p.startswith("subscriptions.ctonew.fallback-for.gpt-5*: expected one of") for p in problems
    )
    assert any(
        p.startswith("subscriptions.ctonew.wire-version: expected one of v1") for p in problems
    )


def test_rule_config_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "routing": {
                    "rules": [
                        {"name": "a", "model": "m", "when": {"format": "openai", "tokns-above": 5}},
                        {"name": "b", "model": "m", "set": {"reasoning-effort": "huge"}},
                        {"name": "b", "model": "m"},
                    ],
                    "sticky": {"max-sessions": 0},
                }
            }
        )
    )
    with pytest.raises(ConfigError) as caught:
        read_config(path, env={})
    problems = "\n".join(caught.value.problems)
    assert (
        "routing.rules[0].when.tokns-above: unknown key (did you mean 'tokens-above'?)" in problems
    )
    assert "routing.rules[1].set.reasoning-effort: expected one of none, minimal" in problems
    assert "routing.sticky.max-sessions: expected an integer >= 1" in problems
