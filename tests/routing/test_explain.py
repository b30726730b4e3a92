"""route explain: the decision as data, the text, and the command."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from router.config.rules import RuleConditions, RuleConfig, RuleOverrides, StickyConfig
from router.config.schema import CooldownConfig
from router.formats import Format
from router.ops.cli import main as cliproxy_main
from router.routing.cooldown import Cooldowns
from router.routing.explain import explain, guess_format, render
from router.routing.rules import Rules
from router.routing.selector import Selector
from router.routing.sticky import Session, StickySessions
from router.routing.table import ModelTable
from tests.fakes.proxy import unused_port
from tests.routing.stubs import ConfiguredUpstream, ManualClock

REPO = Path(__file__).resolve().parents[2]
HAIKU = {
    "model": "claude-haiku-4-5",
    "max_tokens": 9,
    "messages": [{"role": "user", "content": "title please"}],
}


def setup(clock: ManualClock) -> tuple[ModelTable, Rules, StickySessions, Selector]:
    claude = ConfiguredUpstream("claude", {"claude-haiku-4-5": ()}, credentials=("a", "b"))
    cheap = ConfiguredUpstream("cheap", {"gpt-4o-mini": ()}, credentials=("k1", "k2"))
    rules = Rules(
        [
            RuleConfig(
                "background",
                "gpt-4o-mini",
                RuleConditions(background=True),
                RuleOverrides(max_tokens=256),
            )
        ]
    )
    selector = Selector("round-robin", Cooldowns(CooldownConfig(), clock=clock))
    sticky = StickySessions(StickyConfig(), clock)
    return ModelTable([claude, cheap], routes=[]), rules, sticky, selector


def test_explain_names_the_rule_and_orders_candidates_with_cooling_state() -> None:
    clock = ManualClock()
    table, rules, sticky, selector = setup(clock)
    selector.cooldowns.fail("cheap", "k1", "gpt-4o-mini", "429", retry_after=30)
    result = explain(table, rules, sticky, selector, Format.ANTHROPIC, "claude-haiku-4-5", HAIKU)
    assert result["rule"] == "background" and result["routed_model"] == "gpt-4o-mini"
    assert result["set"] == {"max-tokens": 256}
    assert [(c["credential"], c["cooling_s"]) for c in result["candidates"]] == [
        ("k1", 30.0),
        ("k2", 0.0),
    ]
    text = render(result)
    assert "rule: background -> gpt-4o-mini (set max-tokens=256)" in text
    assert "1. cheap credential=k1 model=gpt-4o-mini cooling 30.0 s" in text
    assert "2. cheap credential=k2 model=gpt-4o-mini ready" in text


def test_explain_shows_the_sticky_credential_first() -> None:
    clock = ManualClock()
    table, rules, sticky, selector = setup(clock)
    body = {**HAIKU, "model": "claude-haiku-4-5", "tools": [{"name": "t", "input_schema": {}}]}
    sticky.remember("claude-haiku-4-5", Session("h:conv"), "claude", "b")
    result = explain(
        table,
        rules,
        sticky,
        selector,
        Format.ANTHROPIC,
        "claude-haiku-4-5",
        body,
        headers={"X-Session-Id": "conv"},
    )
    assert result["rule"] is None and result["sticky"] == "claude/b"
    assert [c["credential"] for c in result["candidates"]] == ["b", "a"]


def test_explain_of_an_unknown_model_has_no_candidates() -> None:
    table, rules, sticky, selector = setup(ManualClock())
    result = explain(table, rules, sticky, selector, Format.OPENAI_CHAT, "nope", {"model": "nope"})
    assert result["candidates"] == []
    assert "no candidates: model 'nope' is not configured" in render(result)


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        ({"contents": []}, Format.GEMINI),
        ({"input": "hi"}, Format.OPENAI_RESPONSES),
        ({"system": "s", "messages": []}, Format.ANTHROPIC),
        ({"messages": [{"role": "user", "content": "x"}]}, Format.OPENAI_CHAT),
    ],
)
def test_guess_format(body: dict, fmt: Format) -> None:
    assert guess_format(body) == fmt


def write_config(tmp_path: Path) -> Path:
    config = {
        "auth-dir": str(tmp_path / "auth"),
        # No router listens there: these tests explain statically whatever runs on 8317.
        "port": unused_port(),
        "providers": [
            {
                "name": "claude",
                "kind": "anthropic",
                "base-url": "http://127.0.0.1:9",
                "api-keys": [{"name": "a", "key": "secret-a"}],
                "models": ["claude-haiku-4-5"],
            },
            {
                "name": "cheap",
                "base-url": "http://127.0.0.1:9/v1",
                "api-keys": ["secret-k"],
                "models": ["gpt-4o-mini"],
            },
        ],
        "routing": {
            "rules": [{"name": "bg", "when": {"background": True}, "model": "gpt-4o-mini"}]
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_python_m_router_route_explain_reads_stdin(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "router", "route", "explain", "--config", str(config), "--json"],
        input=json.dumps(HAIKU),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["rule"] == "bg"
    assert result["candidates"][0]["provider"] == "cheap"
    assert "secret" not in done.stdout


def test_cliproxy_route_explain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLIPROXY_CONFIG", str(write_config(tmp_path)))
    monkeypatch.setattr(
        sys, "stdin", io.StringIO(json.dumps({**HAIKU, "model": "claude-haiku-4-5"}))
    )
    assert cliproxy_main(["route", "explain"]) == 0
    out = capsys.readouterr().out
    assert "rule: bg -> gpt-4o-mini" in out and "1. cheap credential=key1" in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("not json"))
    assert cliproxy_main(["route", "explain"]) == 2
    assert "not JSON" in capsys.readouterr().err
