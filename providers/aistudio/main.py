"""Entry point: python -m providers.aistudio [--config PATH]."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from providers.aistudio.control import start_control_server
from providers.aistudio.service import AIStudioService, ServiceSettings
from router.config import Config, ConfigError, load_config
from router.logs import log_fields, setup_logging
from router.relay.key import config_with_relay_key

log = logging.getLogger("aistudio")


def resolve_settings(config: Config) -> ServiceSettings:
    """Relay URL defaults to the router's own /v1/ws; the auth dir comes from the router."""
    relay_url = config.aistudio.relay_url
    if not relay_url:
        host = config.host if config.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        relay_url = f"ws://{host}:{config.port}/v1/ws"
    return ServiceSettings(relay_url=relay_url, auth_dir=Path(config.auth_dir).expanduser())


async def run(config: Config) -> int:
    config = config_with_relay_key(config)
    settings = resolve_settings(config)
    aistudio = config.aistudio
    service = AIStudioService(aistudio, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    runner, _port = await start_control_server(service, aistudio.control_port)
    try:
        await stop.wait()
    finally:
        log_fields(log, logging.INFO, event="shutdown_requested")
        await runner.cleanup()
        await service.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m providers.aistudio")
    parser.add_argument("--config", help="config.yaml (default: $CLIPROXY_CONFIG, ./config.yaml)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}")
        return 2
    setup_logging(config.log_level)
    if not config.aistudio.enabled:
        log_fields(
            log,
            logging.WARNING,
            event="aistudio_disabled",
            hint="set aistudio.enabled: true in the config",
        )
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(config))
    return 0
