"""Install the pinned peers into a scratch folder, once; later runs reuse the install.

``<scratch>/<key>-<version>/`` holds ``venv/`` (PyPI peers) or ``pkg/`` (an npm prefix),
``data/`` (9router's DATA_DIR: the SQLite runtime its postinstall puts there), the
``install.log`` and an ``.installed`` marker written only after a complete install. The
scratch folder defaults to ~/.cache/cliproxy/bench-peers and may never be inside the repo.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.peers.pins import Pin
from bench.processes import REPO

DEFAULT_SCRATCH = Path.home() / ".cache" / "cliproxy" / "bench-peers"
SCRATCH_ENV = "CLIPROXY_BENCH_PEERS_DIR"
INSTALL_TIMEOUT = 900.0
# Debian's nodejs ships its headers here: native modules (9router's better-sqlite3) build
# from them when their prebuilt binary cannot be downloaded.
NODE_HEADERS = Path("/usr/include/node/node.h")


class InstallFailed(RuntimeError):
    """The install command failed; the message carries the reason and the log's tail."""


@dataclass(frozen=True)
class Installed:
    pin: Pin
    root: Path

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def package_dir(self) -> Path:
        """Where npm put the package (``pkg/node_modules/<name>``)."""
        return self.root / "pkg" / "node_modules" / self.pin.package

    @property
    def data_dir(self) -> Path:
        return self.root / "data"


def scratch_dir(chosen: str | None) -> Path:
    """The scratch folder: ``chosen``, else $CLIPROXY_BENCH_PEERS_DIR, else the default."""
    path = Path(chosen or os.environ.get(SCRATCH_ENV) or DEFAULT_SCRATCH).expanduser().resolve()
    if path.is_relative_to(REPO):
        raise ValueError(f"the peers' scratch folder {path} is inside the repository {REPO}")
    return path


def _commands(pin: Pin, root: Path) -> list[list[str]]:
    if pin.registry == "pypi":
        pip = str(root / "venv" / "bin" / "pip")
        return [
            [sys.executable, "-m", "venv", str(root / "venv")],
            [pip, "install", "--disable-pip-version-check", "--no-input", pin.spec],
        ]
    quiet = ["--no-audit", "--no-fund"]
    commands = [["npm", "install", "--prefix", str(root / "pkg"), *quiet, pin.spec]]
    if pin.runtime:
        runtime = root / "data" / "runtime"
        commands.append(
            ["npm", "install", "--prefix", str(runtime), "--no-save", *quiet, pin.runtime]
        )
    return commands


def _has_module(prefix: Path, spec: str) -> bool:
    """Whether the npm package of ``spec`` (name@version) is installed under ``prefix``."""
    name = spec.rpartition("@")[0] or spec
    return (prefix / "node_modules" / name / "package.json").exists()


def _install_env(root: Path) -> dict[str, str]:
    env = {**os.environ, "DATA_DIR": str(root / "data"), "PIP_NO_INPUT": "1"}
    if NODE_HEADERS.exists():
        env["npm_config_nodedir"] = str(NODE_HEADERS.parent.parent.parent)
    return env


async def _run(argv: list[str], env: dict[str, str], log: Path) -> int:
    with log.open("ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
        )
        try:
            return await asyncio.wait_for(process.wait(), INSTALL_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            return -9


def _tail(log: Path, lines: int = 8) -> str:
    text = log.read_text(errors="replace").splitlines()
    return "\n".join(line for line in text[-lines:] if line.strip())


async def install(pin: Pin, scratch: Path, say: Callable[[str], None]) -> Installed:
    """The pinned peer under ``scratch``, installing it unless a complete install is there."""
    root = scratch / f"{pin.key}-{pin.version}"
    marker = root / ".installed"
    if marker.exists():
        return Installed(pin, root)
    if root.exists():
        shutil.rmtree(root)
    (root / "data").mkdir(parents=True)
    log = root / "install.log"
    say(f"  installing {pin.spec} into {root} (log: {log})")
    env = _install_env(root)
    for argv in _commands(pin, root):
        if argv[-1] == pin.runtime and _has_module(root / "data" / "runtime", pin.runtime):
            continue
        if not shutil.which(argv[0]):
            raise InstallFailed(f"{argv[0]} is not installed")
        code = await _run(argv, env, log)
        if code != 0:
            raise InstallFailed(f"`{' '.join(argv[:3])} ...` exited with {code}:\n{_tail(log)}")
    marker.write_text(pin.spec + "\n")
    return Installed(pin, root)
