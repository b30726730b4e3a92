"""Running the router: bind, serve, reload on SIGHUP, stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from router import heap
from router.api.internal import create_internal_app
from router.app import create_app
from router.config import LoadedConfig
from router.connections import RouterRunner
from router.event_loop import running_loop_name
from router.fdlimit import raise_fd_limit
from router.logs import log_fields
from router.shared import WorkerRole
from router.state import RouterState

log = logging.getLogger("router.server")

# Seconds running requests get to finish when the router stops.
SHUTDOWN_GRACE = 5.0
# Seconds the first worker waits for a busy port before giving up.
PORT_WAIT = 3.0


@dataclass
class RunningRouter:
    """A started router: its URL, state and runner (stop with ``await stop()``)."""

    url: str
    port: int
    state: RouterState
    runner: web.AppRunner
    # Serves the other workers on this worker's private socket (several workers only).
    internal: web.AppRunner | None = None

    async def stop(self) -> None:
        if self.internal is not None:
            await self.internal.cleanup()
        await self.runner.cleanup()


async def start_router(
    loaded: LoadedConfig,
    config_path: str | Path | None = None,
    port: int | None = None,
    role: WorkerRole | None = None,
) -> RunningRouter:
    """Start serving on the configured host (and ``port``, which overrides the config).

    As one of several workers (``role``) the port is bound with SO_REUSEPORT, so the
    kernel spreads connections over the workers, and the worker also answers the others
    on its private socket (router/api/internal.py)."""
    config = loaded.config
    state = RouterState(loaded, config_path, role)
    runner = RouterRunner(
        create_app(state),
        settings=lambda: state.runtime.config.server,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=SHUTDOWN_GRACE,
        # Request bodies are decompressed by router/content_encoding.py, within limits.
        auto_decompress=False,
    )
    await runner.setup()
    wanted = config.port if port is None else port
    if role is not None and role.index == 0:
        # SO_REUSEPORT would let this router share a port another one already serves;
        # the first worker makes sure the port is free, as a plain bind would.
        await _wait_port_free(config.host, wanted)
    site = web.TCPSite(runner, config.host, wanted, reuse_port=role is not None)
    await site.start()
    internal = None
    if role is not None:
        internal = web.AppRunner(
            create_internal_app(state, role), access_log=None, shutdown_timeout=SHUTDOWN_GRACE
        )
        await internal.setup()
        await web.UnixSite(internal, str(role.socket_path())).start()
    state.start_background()
    bound_port = runner.addresses[0][1]
    host = f"[{config.host}]" if ":" in config.host else config.host
    return RunningRouter(
        url=f"http://{host}:{bound_port}",
        port=bound_port,
        state=state,
        runner=runner,
        internal=internal,
    )


async def _wait_port_free(host: str, port: int) -> None:
    """Raise OSError (EADDRINUSE) when something still listens on ``host:port`` after
    PORT_WAIT seconds: the workers of a router killed a moment ago let go of it as soon as
    they see their parent gone, so a restart waits for them instead of failing."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = asyncio.get_running_loop().time() + PORT_WAIT
    while True:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As the real listener will: connections in TIME_WAIT do not make a port busy.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
                return
            except OSError:
                if asyncio.get_running_loop().time() >= deadline:
                    raise
        await asyncio.sleep(0.1)


async def serve(
    loaded: LoadedConfig, config_path: str | Path | None, role: WorkerRole | None = None
) -> None:
    """Serve until SIGTERM or SIGINT (or, as a worker, until the parent is gone)."""
    soft, hard = raise_fd_limit()
    log_fields(log, logging.INFO, event="fd_limit", soft=soft, hard=hard)
    router = await start_router(loaded, config_path, role=role)
    stop = asyncio.Event()
    handle_signals(router, stop)
    if role is not None and role.lifeline >= 0:
        asyncio.get_running_loop().add_reader(role.lifeline, _parent_gone, role, stop)
    log_listening(router, loaded)
    heap.settle()
    await stop.wait()
    log_fields(log, logging.INFO, event="stopping", worker=role.index if role else None)
    await router.stop()


def handle_signals(router: RunningRouter, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, router.state.schedule_reload)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


def log_listening(router: RunningRouter, loaded: LoadedConfig) -> None:
    role = router.state.role
    log_fields(
        log,
        logging.INFO,
        event="listening",
        url=router.url,
        config=str(loaded.path) if loaded.path else "defaults",
        providers=len(router.state.runtime.upstreams),
        worker=f"{role.index}/{role.count}" if role else None,
        event_loop=running_loop_name(),
    )


def _parent_gone(role: WorkerRole, stop: asyncio.Event) -> None:
    """The lifeline pipe became readable: the parent's end closed, so it is gone (killed,
    not stopped: a stopping parent sends SIGTERM first). This worker stops too."""
    asyncio.get_running_loop().remove_reader(role.lifeline)
    if not stop.is_set():
        log_fields(log, logging.WARNING, event="worker_orphaned", worker=role.index)
        stop.set()
