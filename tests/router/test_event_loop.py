"""``server.event-loop``: uvloop when installed, the standard loop when asked or missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.config import event_loop as setting
from router.config import read_config
from tests.router.test_config import problems_for


def test_auto_is_uvloop_when_installed_and_asyncio_otherwise(monkeypatch) -> None:
    monkeypatch.setattr(setting, "uvloop_installed", lambda: True)
    assert setting.chosen_event_loop("auto") == "uvloop"
    monkeypatch.setattr(setting, "uvloop_installed", lambda: False)
    assert setting.chosen_event_loop("auto") == "asyncio"
    assert setting.chosen_event_loop("asyncio") == "asyncio"


def test_the_default_is_auto(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("{}\n")
    assert read_config(path, env={}).config.server.event_loop == "auto"


def test_a_misspelt_loop_is_named_with_a_suggestion(tmp_path: Path) -> None:
    assert problems_for(tmp_path, {"server": {"event-loop": "uvlop"}}) == [
        "server.event-loop: unknown event loop 'uvlop' (did you mean 'uvloop'?)"
    ]


def test_asking_for_uvloop_without_it_says_how_to_get_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(setting, "uvloop_installed", lambda: False)
    assert problems_for(tmp_path, {"server": {"event-loop": "uvloop"}}) == [
        "server.event-loop: uvloop is not installed (pip install uvloop), or use auto"
    ]


@pytest.mark.parametrize("value", ["auto", "asyncio", "uvloop"])
def test_every_named_loop_binds(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"server:\n  event-loop: {value}\n")
    assert read_config(path, env={}).config.server.event_loop == value
