"""`cliproxy env` and `cliproxy shell-integration` sourced in real bash, zsh and fish.

Each snippet is loaded into a fresh interactive-free shell that then activates, prints
what it set, deactivates and prints again: the variables must appear with the router's URL
and client key, and be gone afterwards. `cliproxy run` is checked with a stand-in client
on PATH that prints its environment and arguments.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

CLIPROXY = str(Path(sys.executable).parent / "cliproxy")
KEY = "client-key-with-'quote'"
PORT = 18765
EXPECTED = {
    "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{PORT}",
    "ANTHROPIC_AUTH_TOKEN": KEY,
    "CLIPROXY_API_KEY": KEY,
    "OPENAI_BASE_URL": f"http://127.0.0.1:{PORT}/v1",
    "OPENAI_API_KEY": KEY,
    "GOOGLE_GEMINI_BASE_URL": f"http://127.0.0.1:{PORT}",
    "GEMINI_API_KEY": KEY,
    "GEMINI_DEFAULT_AUTH_TYPE": "gemini-api-key",
}
PRINT_VARS = {
    "bash": 'for v in {names}; do printf "%s=%s\\n" "$v" "${{!v-<unset>}}"; done',
    "zsh": 'for v in {names}; do printf "%s=%s\\n" "$v" "${{(P)v-<unset>}}"; done',
    "fish": (
        "for v in {names}; if set -q $v; printf '%s=%s\\n' $v $$v; "
        "else; printf '%s=<unset>\\n' $v; end; end"
    ),
}


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"port": PORT, "api-keys": [KEY]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPROXY_")}
    for name in EXPECTED:
        env.pop(name, None)
    env["CLIPROXY_CONFIG"] = str(config)
    return env


def parse(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def run_shell(shell: str, script: str, env: dict[str, str]) -> str:
    argv = {
        "bash": ["bash", "--norc", "-c"],
        "zsh": ["zsh", "-f", "-c"],
        "fish": ["fish", "-N", "-c"],
    }
    result = subprocess.run(
        [*argv[shell], script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"{shell}: {result.stderr}"
    return result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_integration_snippet_activates_and_deactivates(shell: str, environment) -> None:
    snippet = subprocess.run(
        [CLIPROXY, "shell-integration", shell],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    names = " ".join([*EXPECTED, "OPENCODE_CONFIG_CONTENT", "CLIPROXY_ACTIVE"])
    show = PRINT_VARS[shell].format(names=names)
    script = f"{snippet}\ncliproxy_activate\n{show}\necho ---\ncliproxy_deactivate\n{show}\n"
    active, _, inactive = run_shell(shell, script, environment).partition("---\n")
    active_vars, inactive_vars = parse(active), parse(inactive)
    for name, value in EXPECTED.items():
        assert active_vars[name] == value, (shell, name)
        assert inactive_vars[name] == "<unset>", (shell, name)
    assert f'"baseURL": "http://127.0.0.1:{PORT}/v1"' in active_vars["OPENCODE_CONFIG_CONTENT"]
    assert active_vars["CLIPROXY_ACTIVE"] == "1"
    assert inactive_vars["OPENCODE_CONFIG_CONTENT"] == inactive_vars["CLIPROXY_ACTIVE"] == "<unset>"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_env_output_evaluated_sets_only_the_chosen_client(shell: str, environment) -> None:
    names = " ".join(EXPECTED)
    show = PRINT_VARS[shell].format(names=names)
    load = {
        "bash": f'eval "$({CLIPROXY} env claude --shell bash)"',
        "zsh": f'eval "$({CLIPROXY} env claude --shell zsh)"',
        "fish": f"{CLIPROXY} env claude --shell fish | source",
    }[shell]
    values = parse(run_shell(shell, f"{load}\n{show}\n", environment))
    assert values["ANTHROPIC_BASE_URL"] == EXPECTED["ANTHROPIC_BASE_URL"]
    assert values["ANTHROPIC_AUTH_TOKEN"] == KEY
    assert values["OPENAI_BASE_URL"] == values["GEMINI_API_KEY"] == "<unset>"


def test_env_rejects_an_unknown_client(environment) -> None:
    result = subprocess.run(
        [CLIPROXY, "env", "nosuchclient"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "unknown client 'nosuchclient'" in result.stderr


def test_run_starts_the_client_pointed_at_cliproxy(tmp_path: Path, environment) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for client in ("claude", "codex"):
        stand_in = bin_dir / client
        stand_in.write_text(
            "#!/bin/sh\nprintf 'ARGS=%s\\n' \"$*\"\n"
            "printf 'ANTHROPIC_BASE_URL=%s\\nCLIPROXY_API_KEY=%s\\n' "
            '"$ANTHROPIC_BASE_URL" "$CLIPROXY_API_KEY"\n'
        )
        stand_in.chmod(0o755)
    environment["PATH"] = f"{bin_dir}:{environment['PATH']}"
    claude = subprocess.run(
        [CLIPROXY, "run", "claude", "--", "-p", "hello"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    values = parse(claude.stdout)
    assert values["ARGS"] == "-p hello"
    assert values["ANTHROPIC_BASE_URL"] == EXPECTED["ANTHROPIC_BASE_URL"]
    codex = subprocess.run(
        [CLIPROXY, "run", "codex", "--", "exec", "hi"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    values = parse(codex.stdout)
    assert values["CLIPROXY_API_KEY"] == KEY
    assert 'model_providers.cliproxy.env_key="CLIPROXY_API_KEY"' in values["ARGS"]
    assert f'model_providers.cliproxy.base_url="http://127.0.0.1:{PORT}/v1"' in values["ARGS"]
    assert values["ARGS"].endswith("exec hi")
    environment["PATH"] = str(bin_dir)
    missing = subprocess.run(
        [CLIPROXY, "run", "gemini"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 127 and "npm install -g @google/gemini-cli" in missing.stderr
