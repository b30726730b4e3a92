"""The .env beside config.yaml, and what check-config refuses before a program would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from router.config import ConfigError, read_config
from router.config.envfile import parse_env_text

CLIPROXY = str(Path(sys.executable).parent / "cliproxy")


def write(tmp_path: Path, config: dict, env_text: str | None = None, mode: int = 0o600) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    if env_text is not None:
        env_file = tmp_path / ".env"
        env_file.write_text(env_text)
        env_file.chmod(mode)
    return path


PROVIDER = {
    "name": "up",
    "base-url": "http://127.0.0.1:9/v1",
    "api-keys": ["${UP_KEY}"],
    "models": ["m"],
}


def test_env_file_fills_variables_and_the_environment_wins(tmp_path: Path) -> None:
    text = "# secrets\nexport UP_KEY='from-file'\nCLIPROXY_PORT=9123\n\nOTHER=\"x y\"\n"
    path = write(tmp_path, {"providers": [PROVIDER]}, text)
    loaded = read_config(path, env={})
    assert loaded.config.providers[0].api_keys[0].key == "from-file"
    assert loaded.config.port == 9123
    assert loaded.unset_env == {}
    overridden = read_config(path, env={"UP_KEY": "from-shell"})
    assert overridden.config.providers[0].api_keys[0].key == "from-shell"


def test_env_file_readable_by_others_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, {"providers": [PROVIDER]}, "UP_KEY=s3cret\n", mode=0o644)
    with pytest.raises(ConfigError) as refused:
        read_config(path, env={})
    assert "chmod 600" in refused.value.problems[0]
    assert "s3cret" not in refused.value.problems[0]


def test_env_file_bad_line_is_named() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_env_text("GOOD=1\nthis is not an assignment\n", ".env")
    assert refused.value.problems == [".env:2: expected NAME=value"]


def test_webai_providers_the_sidecar_refuses_are_refused(tmp_path: Path) -> None:
    for providers, expected in (
        ([], "expected at least one g4f provider name"),
        (["Gemini", "g4f.Provider:Gemini"], "duplicate name 'Gemini'"),
    ):
        path = write(tmp_path, {"webai": {"enabled": True, "key": "k", "providers": providers}})
        with pytest.raises(ConfigError) as refused:
            read_config(path, env={})
        assert any(
            p.startswith("webai.providers: ") and expected in p for p in refused.value.problems
        )


def run_cliproxy(*args: str, config: Path, env: dict[str, str] | None = None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLIPROXY_")}
    environment.update(env or {}, CLIPROXY_CONFIG=str(config))
    return subprocess.run(
        [CLIPROXY, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_unset_webai_key_blocks_nothing_while_webai_is_disabled(tmp_path: Path) -> None:
    path = write(tmp_path, {"webai": {"enabled": False, "key": "${CLIPROXY_WEBAI_KEY}"}})
    checked = run_cliproxy("check-config", config=path)
    assert checked.returncode == 0, checked.stderr
    assert "CLIPROXY_WEBAI_KEY" not in checked.stderr
    loaded = read_config(path, env={})
    assert loaded.config.webai.enabled is False


def test_unknown_g4f_provider_and_missing_chromium_fail_check_config(tmp_path: Path) -> None:
    config = {
        "webai": {"enabled": True, "key": "k", "providers": ["NoSuchProviderXyz"]},
        "aistudio": {"enabled": True, "chromium-path": str(tmp_path / "no-chromium")},
    }
    checked = run_cliproxy("check-config", config=write(tmp_path, config))
    assert checked.returncode == 2
    assert "webai.providers: unknown g4f provider 'NoSuchProviderXyz'" in checked.stderr
    assert "aistudio.chromium-path:" in checked.stderr
    assert "apt-get install -y chromium" in checked.stderr


def test_chromium_that_is_not_executable_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o644)
    config = {"aistudio": {"enabled": True, "chromium-path": str(fake)}}
    checked = run_cliproxy("check-config", config=write(tmp_path, config))
    assert checked.returncode == 2 and "not an executable file" in checked.stderr
    fake.chmod(0o755)
    assert run_cliproxy("check-config", config=write(tmp_path, config)).returncode == 0


def test_check_config_warns_about_unset_variables_of_enabled_sections(tmp_path: Path) -> None:
    checked = run_cliproxy("check-config", config=write(tmp_path, {"providers": [PROVIDER]}))
    assert checked.returncode == 0
    assert "providers[0].api-keys[0] uses ${UP_KEY}, which is not set" in checked.stderr
    assert str(tmp_path / ".env") in checked.stderr
