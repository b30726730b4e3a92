"""Every command in the README and docs/ works: run against a copy of the project.

Shell and Python blocks of each document run in order, in one bash session per document,
against a real supervisord and router serving the README's example config with its
upstreams played by the local OpenAI and Anthropic fakes (keys in the copy's .env). The
only rewrite is the port: "127.0.0.1:8317" becomes the test's free port. Blocks marked
no-run are syntax-checked and every script and cliproxy command they name must exist;
yaml blocks must bind as cliproxy config (with every ${VAR} given a value).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from router.config import read_config
from router.ops.cli import COMMANDS, SCRIPTS
from tests.e2e.docs_blocks import DOC_FILES, FLAGS, LANGUAGES, REPO_ROOT, Block, all_blocks, blocks
from tests.e2e.test_supervisord import explain, free_port
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.openai import OpenAIFake

COPIED = (
    "scripts",
    "supervisord.conf",
    "config.example.yaml",
    "pyproject.toml",
    "docs",
    "README.md",
    "examples",
)
LINKED = ("router", "providers", "tests", "testkit", "bench", ".venv")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def test_every_block_has_a_known_language_and_flags() -> None:
    found = all_blocks()
    assert len(found) > 20
    for block in found:
        assert block.language in LANGUAGES, block.where
        assert block.flags <= FLAGS, block.where
    assert any(b.language == "sh" and not b.flags for b in blocks("README.md"))


@pytest.mark.parametrize(
    "block", [b for b in all_blocks() if b.language == "yaml"], ids=lambda b: b.where
)
def test_yaml_blocks_are_valid_config(block: Block, tmp_path: Path) -> None:
    if "no-check" in block.flags:
        assert yaml.safe_load(block.body), block.where
        return
    check_config_text(block.body, tmp_path)


def test_example_custom_provider_config_is_valid(tmp_path: Path) -> None:
    check_config_text((REPO_ROOT / "examples" / "custom-provider.yaml").read_text(), tmp_path)


def check_config_text(text: str, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    env = {name: "a-value-for-the-docs-test" for name in VARIABLE.findall(text)}
    loaded = read_config(path, env=env)
    assert loaded.unset_env == {}


@pytest.mark.parametrize(
    "block",
    [b for b in all_blocks() if b.language == "sh" and "no-run" in b.flags],
    ids=lambda b: b.where,
)
def test_no_run_blocks_parse_and_name_real_commands(block: Block) -> None:
    checked = subprocess.run(
        ["bash", "-n"], input=block.body, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, f"{block.where}: {checked.stderr}"
    for script in re.findall(r"(?:\./)?(scripts/[\w.-]+)", block.body):
        assert (REPO_ROOT / script).is_file(), f"{block.where}: {script} does not exist"
    known = set(SCRIPTS) | set(COMMANDS)
    # cliproxy where a command starts (a line, or after ; & | or "$("), not as an argument
    # (llm keys set cliproxy ...).
    for command in re.findall(r"(?:^|[;&|]|\$\()\s*cliproxy (\S+)", block.body, re.M):
        assert command in known, f"{block.where}: cliproxy {command} is not a command"


class Fakes:
    """The OpenAI and Anthropic fakes on a loop in a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.openai = self.call(OpenAIFake().start())
        self.anthropic = self.call(AnthropicFake().start())

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def close(self) -> None:
        self.call(self.openai.close())
        self.call(self.anthropic.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    running = Fakes()
    yield running
    running.close()


def readme_config(fakes: Fakes) -> str:
    """README's example config, pointed at the fakes instead of the real services."""
    [config] = [b.body for b in blocks("README.md") if b.language == "yaml"]
    config = config.replace("https://api.openai.com", fakes.openai.base_url)
    config = config.replace("https://api.anthropic.com", fakes.anthropic.base_url)
    assert fakes.openai.base_url in config and fakes.anthropic.base_url in config
    return config


@pytest.fixture
def docs_copy(
    repo_installed: None, tmp_path_factory: pytest.TempPathFactory, fakes: Fakes
) -> Iterator[tuple[Path, dict[str, str], int]]:
    root = tmp_path_factory.mktemp("docs") / "project"
    root.mkdir()
    for name in COPIED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    for name in LINKED:
        (root / name).symlink_to(REPO_ROOT / name, target_is_directory=True)
    (root / "config.yaml").write_text(readme_config(fakes))
    env_file = root / ".env"
    env_file.write_text(
        f"OPENAI_API_KEY={fakes.openai.key}\nANTHROPIC_API_KEY={fakes.anthropic.key}\n"
    )
    env_file.chmod(0o600)
    home = root.parent / "home"
    # Where install.sh links the command (tests/ops/test_install.py checks that it does);
    # Debian's ~/.profile puts this directory on PATH.
    user_bin = home / ".local" / "bin"
    user_bin.mkdir(parents=True)
    (user_bin / "cliproxy").symlink_to(root / ".venv" / "bin" / "cliproxy")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPROXY_")}
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
        env.pop(name, None)
    env.update(
        HOME=str(home),
        PATH=f"{user_bin}:{env['PATH']}",
        CLIPROXY_HOME=str(root),
        CLIPROXY_PORT=str(port),
        CLIPROXY_URL=f"http://127.0.0.1:{port}",
        CLIPROXY_START_TIMEOUT="60",
        CLIPROXY_BIN_DIR=str(user_bin),
    )
    try:
        yield root, env, port
    finally:
        subprocess.run(
            [str(root / "scripts" / "stop.sh")],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )


def session_script(file: str, port: int) -> str:
    """The document's runnable blocks as one bash script, python blocks included."""
    parts = ["set -euo pipefail", "./scripts/start.sh >/dev/null"]
    for block in blocks(file):
        if block.flags & {"no-run"} or block.language not in ("sh", "python"):
            continue
        body = block.body.replace("127.0.0.1:8317", f"127.0.0.1:{port}")
        parts.append(f"echo '>>> {block.where}'")
        if block.language == "python":
            parts.append(f".venv/bin/python - <<'PYTHON'\n{body}PYTHON")
        else:
            parts.append(body)
    return "\n".join(parts) + "\n"


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_every_documented_command_runs(docs_copy: tuple[Path, dict[str, str], int]) -> None:
    root, env, port = docs_copy
    ran = 0
    for file in DOC_FILES:
        script = session_script(file, port)
        ran += script.count(">>> ")
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, f"{file}\n{explain(result)}"
        for marker in re.findall(r">>> ([^\s']+)", script):
            assert marker in result.stdout, f"{marker} did not run\n{explain(result)}"
    assert ran >= 15
    # What the commands promised actually happened in the copy.
    assert "cliproxy_activate()" in (Path(env["HOME"]) / ".bashrc").read_text()
    fish = Path(env["HOME"]) / ".config" / "fish" / "conf.d" / "cliproxy.fish"
    assert "function cliproxy_activate" in fish.read_text()
