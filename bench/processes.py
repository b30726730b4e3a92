"""The processes a benchmark measures: upstream, router and forwarder, each a subprocess.

``Processes`` is an async context manager that owns every process it started and stops
them all on exit, whatever the exit (an error, a cancelled run, Ctrl-C). Children run in
their own session so a Ctrl-C in the terminal reaches only the bench, which then stops
them with SIGTERM (SIGKILL after a grace period).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from bench.load import yield_cpu

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STOP_GRACE = 5.0
START_TIMEOUT = 20.0

BENCH_MODEL = "bench-model"
# Another name for BENCH_MODEL: the router rewrites it before sending the body on.
BENCH_ALIAS = "bench-fast"
BENCH_KEY = "sk-bench"


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the OS may hand it out again later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StartFailed(RuntimeError):
    """A process exited or never became ready; the message carries its log tail."""


class Child:
    """One started process, its log file and the port it listens on."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self.port = 0
        # A router's health details need a key: its relay key.
        self.health_key = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        code = self.popen.poll()
        if code is not None:
            raise StartFailed(f"{self.name} exited with {code}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        # What it started in its own session (a peer's worker or helper) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


class Processes:
    """Starts benchmark processes in ``workdir``; stops them all on exit."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.children: list[Child] = []

    async def __aenter__(self) -> Processes:
        self.workdir.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()

    def _spawn(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        port_on_stdout: bool = True,
        cwd: Path = REPO,
        stdout_to_log: bool = False,
        yielding: bool = False,
    ) -> Child:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE
                if port_on_stdout
                else (log if stdout_to_log else subprocess.DEVNULL),
                stderr=log,
                start_new_session=True,
                preexec_fn=yield_cpu if yielding else None,
            )
        child = Child(name, popen, log_path)
        self.children.append(child)
        return child

    def spawn(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> Child:
        """Another program (a peer proxy) started in ``cwd``; stdout and stderr go to its
        log, the caller sets ``port``. It is stopped with the others."""
        return self._spawn(name, argv, env, port_on_stdout=False, cwd=cwd, stdout_to_log=True)

    async def _read_port(self, child: Child) -> None:
        """Children that print their bound port on stdout's first line."""
        assert child.popen.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(child.popen.stdout.readline), START_TIMEOUT)
        if not line.strip():
            child.check_alive()
            raise StartFailed(f"{child.name} printed no port:\n{child.log_tail()}")
        child.port = int(line)

    async def start_upstream(self, chunks: int = 500, interval: float = 0.01) -> Child:
        argv = [PYTHON, "-m", "bench.upstream", "--chunks", str(chunks)]
        child = self._spawn("upstream", [*argv, "--interval", str(interval)])
        await self._read_port(child)
        return child

    async def start_lean_upstream(
        self, chunks: int = 500, interval: float = 0.01, yielding: bool = False
    ) -> Child:
        """bench.lean_upstream: answers and streams at the least CPU and delay it can;
        ``yielding``: under SCHED_BATCH (bench.load.yield_cpu)."""
        argv = [PYTHON, "-m", "bench.lean_upstream", "--chunks", str(chunks)]
        child = self._spawn(
            "lean-upstream", [*argv, "--interval", str(interval)], yielding=yielding
        )
        await self._read_port(child)
        return child

    async def start_forwarder(self, upstream: Child) -> Child:
        target = f"{upstream.url}/v1/chat/completions"
        child = self._spawn("forwarder", [PYTHON, "-m", "bench.forwarder", target])
        await self._read_port(child)
        return child

    async def start_router(
        self,
        upstream: Child,
        log_level: str = "info",
        extra_config: str = "",
        workers: int = 1,
        tree: Path = REPO,
    ) -> Child:
        """``python -m router`` with one provider pointing at ``upstream``; ``extra_config``
        is YAML appended to the config (top-level sections); ``tree``: the checkout whose
        router runs (an older commit's for a before/after comparison)."""
        config = self.workdir / f"router-{len(self.children)}.yaml"
        text = router_config(upstream.url, self.workdir / "auth", log_level, workers)
        if not (tree / "router" / "config" / "workers.py").exists():
            text = text.replace(f"workers: {workers}\n", "")  # from before workers existed
        config.write_text(text + extra_config)
        port = free_port()
        child = self._spawn(
            "router",
            [PYTHON, "-m", "router", "--config", str(config)],
            env={"CLIPROXY_PORT": str(port)},
            port_on_stdout=False,
            cwd=tree,
        )
        child.port = port
        await wait_healthy(child)
        child.health_key = (self.workdir / "auth" / "relay.key").read_text().strip()
        return child


# Served by the bench upstream's Anthropic endpoint: OpenAI clients reach it translated.
TRANSLATED_MODEL = "bench-claude"


def router_config(upstream_url: str, auth_dir: Path, log_level: str, workers: int = 1) -> str:
    """One worker unless asked: memory, fd and socket readings look at one process."""
    return (
        "host: 127.0.0.1\n"
        f"workers: {workers}\n"
        f"log-level: {log_level}\n"
        f"auth-dir: {auth_dir}\n"
        "providers:\n"
        "  - name: bench\n"
        "    kind: openai\n"
        f"    base-url: {upstream_url}/v1\n"
        f"    api-keys: [{BENCH_KEY}]\n"
        "    models:\n"
        f"      - name: {BENCH_MODEL}\n"
        f"        aliases: [{BENCH_ALIAS}]\n"
        "  - name: bench-anthropic\n"
        "    kind: anthropic\n"
        f"    base-url: {upstream_url}\n"
        f"    api-keys: [{BENCH_KEY}]\n"
        f"    models: [{TRANSLATED_MODEL}]\n"
    )


async def wait_healthy(child: Child) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            child.check_alive()
            try:
                async with session.get(f"{child.url}/v1/health") as reply:
                    if reply.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise StartFailed(f"{child.name} not healthy after {START_TIMEOUT:g} s:\n{child.log_tail()}")


async def health(child: Child) -> dict[str, Any]:
    """The router's /v1/health document."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{child.url}/v1/health", headers={"Authorization": f"Bearer {child.health_key}"}
        ) as reply,
    ):
        return dict(await reply.json())
