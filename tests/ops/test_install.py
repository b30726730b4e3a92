"""scripts/install.sh installs only what runs: runtime deps, extras on request.

Runs the real script in a scratch project whose .venv/bin/python is a shim: pip calls are
recorded instead of run (so no package is downloaded or changed), everything else goes to
the base interpreter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_PYTHON = Path(sys.base_prefix) / "bin" / "python3"
TOOLS = (
    "bash",
    "sha256sum",
    "cut",
    "tr",
    "sed",
    "mkdir",
    "mv",
    "cp",
    "ln",
    "stat",
    "dirname",
    "readlink",
    "cat",
    "chmod",
    "printf",
    "grep",
    "flock",
    "rm",
    "env",
)


@pytest.fixture
def scratch(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copytree(REPO_ROOT / "scripts", root / "scripts")
    for name in ("pyproject.toml", "config.example.yaml"):
        shutil.copy2(REPO_ROOT / name, root / name)
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    pip_log = tmp_path / "pip.log"
    shim = venv_bin / "python"
    shim.write_text(
        "#!/bin/bash\n"
        'if [[ "$1" == -m && ( "$2" == pip || "$2" == pytest ) ]]; then\n'
        f'    printf "%s\\n" "${{*:2}}" >>{pip_log}; exit 0\n'
        "fi\n"
        f'exec {BASE_PYTHON} "$@"\n'
    )
    shim.chmod(0o755)
    command = venv_bin / "cliproxy"
    command.write_text("#!/bin/sh\n")
    command.chmod(0o755)
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    env = {
        "PATH": str(tools),
        "HOME": str(tmp_path / "home"),
        "CLIPROXY_BIN_DIR": str(tmp_path / "bin"),
    }
    return root, pip_log, env


def install(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(root / "scripts" / "install.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def pip_calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_runtime_only_by_default_extras_on_request(scratch) -> None:
    root, log, env = scratch
    first = install(root, env)
    assert first.returncode == 0, first.stderr
    assert pip_calls(log)[-1].startswith("pip install")
    assert pip_calls(log)[-1].endswith(f"-e {root}"), pip_calls(log)
    again = install(root, env)
    assert "dependencies up to date" in again.stdout and len(pip_calls(log)) == 1
    with_test = install(root, env, "--with", "test")
    assert with_test.returncode == 0, with_test.stderr
    assert pip_calls(log)[-1].endswith(f"-e {root}[test]")
    # A test venv stays one: a plain install is satisfied by it.
    assert "dependencies up to date" in install(root, env).stdout
    assert len(pip_calls(log)) == 2
    webai = install(root, env, "--with", "webai")
    assert webai.returncode == 0, webai.stderr
    assert pip_calls(log)[-1].endswith(f"-e {root}[webai]")
    linked = Path(env["CLIPROXY_BIN_DIR"]) / "cliproxy"
    assert linked.resolve() == (root / ".venv" / "bin" / "cliproxy").resolve()


def test_aistudio_without_chromium_or_apt_prints_the_exact_command(scratch) -> None:
    root, log, env = scratch
    result = install(root, env, "--with", "aistudio")
    assert result.returncode == 0, result.stderr
    assert pip_calls(log)[-1].endswith(f"-e {root}[aistudio]")
    assert "sudo apt-get install -y chromium" in result.stderr


def test_unknown_extra_is_refused(scratch) -> None:
    root, log, env = scratch
    result = install(root, env, "--with", "everything")
    assert result.returncode == 2 and "expected webai, aistudio or test" in result.stderr
    assert pip_calls(log) == []


def test_only_the_test_script_installs_the_test_toolchain(scratch) -> None:
    root, log, env = scratch
    result = subprocess.run(
        [str(root / "scripts" / "test.sh"), "-q", "tests/ops"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert pip_calls(log)[-2].endswith(f"-e {root}[test]")
    assert pip_calls(log)[-1] == "pytest -q tests/ops"
