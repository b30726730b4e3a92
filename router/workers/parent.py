"""The parent process: worker 0 of N, which starts, watches and stops the other workers.

Every worker binds the port with SO_REUSEPORT, so the kernel spreads connections over
them. A worker that exits unexpectedly is started again; SIGHUP reloads every worker;
SIGTERM stops the children first, then the parent. The shared directory (state and the
workers' internal sockets) is private to one run and removed when the parent stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from router.config import LoadedConfig
from router.logs import log_fields
from router.server import SHUTDOWN_GRACE, RunningRouter, handle_signals, log_listening, start_router
from router.shared import WorkerRole
from router.shared.role import ENV

log = logging.getLogger("router.workers")

RESTART_DELAY = 1.0
WATCH_INTERVAL = 0.5


def sharing_unsupported() -> str | None:
    """Why this platform cannot run several workers, or None when it can."""
    if not hasattr(socket, "SO_REUSEPORT"):
        return "the platform has no SO_REUSEPORT"
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return "the platform has no fcntl file locks"
    return None


class Children:
    """Workers 1..N-1 as subprocesses of this one."""

    def __init__(self, role: WorkerRole, port: int, config_path: str | Path | None) -> None:
        self.role = role
        self.port = port
        self.config_path = config_path
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.stopping = False
        # Only this process holds the write end; children see EOF when it is gone.
        self._lifeline_read, self._lifeline_write = os.pipe()

    def start(self, index: int) -> None:
        argv = [sys.executable, "-m", "router", "serve"]
        if self.config_path is not None:
            argv += ["--config", str(self.config_path)]
        role = self.role.for_worker(index)
        env = {**os.environ, ENV: role.to_env(self._lifeline_read), "CLIPROXY_PORT": str(self.port)}
        self.processes[index] = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, pass_fds=(self._lifeline_read,)
        )
        log_fields(
            log, logging.INFO, event="worker_started", worker=index, pid=self.processes[index].pid
        )

    async def watch(self) -> None:
        """Start again any worker that exited while not stopping."""
        while not self.stopping:
            for index, process in list(self.processes.items()):
                code = process.poll()
                if code is None or self.stopping:
                    continue
                log_fields(log, logging.WARNING, event="worker_exited", worker=index, code=code)
                await asyncio.sleep(RESTART_DELAY)
                if not self.stopping:
                    self.start(index)
            await asyncio.sleep(WATCH_INTERVAL)

    def signal_all(self, sig: signal.Signals) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(sig)

    async def stop(self) -> None:
        self.stopping = True
        self.signal_all(signal.SIGTERM)
        for process in self.processes.values():
            try:
                await asyncio.to_thread(process.wait, SHUTDOWN_GRACE + 2)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        os.close(self._lifeline_read)
        os.close(self._lifeline_write)


async def serve_workers(loaded: LoadedConfig, config_path: str | Path | None, count: int) -> None:
    """Serve as worker 0 of ``count`` until SIGTERM or SIGINT."""
    directory = Path(tempfile.mkdtemp(prefix="cliproxy-workers-"))
    role = WorkerRole(0, count, directory, secrets.token_urlsafe(32))
    try:
        router = await start_router(loaded, config_path, role=role)
        await _run(router, loaded, config_path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def _run(router: RunningRouter, loaded: LoadedConfig, config_path: str | Path | None) -> None:
    role = router.state.role
    assert role is not None
    children = Children(role, router.port, config_path)
    for index in range(1, role.count):
        children.start(index)
    stop = asyncio.Event()
    handle_signals(router, stop)
    loop = asyncio.get_running_loop()

    def reload_all() -> None:
        router.state.schedule_reload()
        children.signal_all(signal.SIGHUP)

    loop.add_signal_handler(signal.SIGHUP, reload_all)
    watcher = loop.create_task(children.watch())
    log_listening(router, loaded)
    await stop.wait()
    log_fields(log, logging.INFO, event="stopping", worker=0)
    watcher.cancel()
    await children.stop()
    await router.stop()
