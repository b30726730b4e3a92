"""Running the router: bind, serve, reload on SIGHUP, stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from router.app import create_app
from router.config import LoadedConfig
from router.connections import RouterRunner
from router.fdlimit import raise_fd_limit
from router.logs import log_fields
from router.state import RouterState

log = logging.getLogger("router.server")

# Seconds running requests get to finish when the router stops.
SHUTDOWN_GRACE = 5.0


@dataclass
class RunningRouter:
    """A started router: its URL, state and runner (stop with ``await stop()``)."""

    url: str
    state: RouterState
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_router(
    loaded: LoadedConfig, config_path: str | Path | None = None, port: int | None = None
) -> RunningRouter:
    """Start serving on the configured host (and ``port``, which overrides the config)."""
    config = loaded.config
    state = RouterState(loaded, config_path)
    runner = RouterRunner(
        create_app(state),
        settings=lambda: state.runtime.config.server,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=SHUTDOWN_GRACE,
        # Request bodies are decompressed by router/api/content_encoding.py, within limits.
        auto_decompress=False,
    )
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port if port is None else port)
    await site.start()
    state.start_background()
    bound_port = runner.addresses[0][1]
    host = f"[{config.host}]" if ":" in config.host else config.host
    return RunningRouter(url=f"http://{host}:{bound_port}", state=state, runner=runner)


async def serve(loaded: LoadedConfig, config_path: str | Path | None) -> None:
    """Serve until SIGTERM or SIGINT."""
    soft, hard = raise_fd_limit()
    log_fields(log, logging.INFO, event="fd_limit", soft=soft, hard=hard)
    router = await start_router(loaded, config_path)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGHUP, router.state.schedule_reload)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log_fields(
        log,
        logging.INFO,
        event="listening",
        url=router.url,
        config=str(loaded.path) if loaded.path else "defaults",
        providers=len(router.state.runtime.upstreams),
    )
    await stop.wait()
    log_fields(log, logging.INFO, event="stopping")
    await router.stop()
