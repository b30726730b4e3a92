"""The fault keys bind, default and fail like every other config key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from router.config import ConfigError, read_config


def problems(tmp_path: Path, config: dict) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as caught:
        read_config(path, env={})
    return caught.value.problems


def test_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("{}")
    config = read_config(path, env={}).config
    assert config.answer_limit_mb == 32
    assert (config.routing.mid_stream_failures, config.routing.mid_stream_window) == (3, 300)


def test_bad_values_name_their_keys(tmp_path: Path) -> None:
    assert problems(tmp_path, {"answer-limit-mb": 0}) == [
        "answer-limit-mb: expected a number > 0, got 0.0"
    ]
    found = problems(tmp_path, {"routing": {"mid-stream-failures": 0, "mid-stream-window": -1}})
    assert any(p.startswith("routing.mid-stream-failures: expected") for p in found), found
    assert any(p.startswith("routing.mid-stream-window: expected") for p in found), found
    assert "did you mean 'answer-limit-mb'" in " ".join(problems(tmp_path, {"answer-limit": 1}))
