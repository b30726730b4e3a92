"""Entry point: `python -m providers.webai [--config PATH]`.

Loads the `webai` section of the project's config.yaml (router.config), starts the
service and runs until SIGTERM or SIGINT. Exit codes: 0 after a clean stop, 2 when the
configuration cannot be served (disabled, no key, unknown provider, invalid file),
1 when the port cannot be bound.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from dataclasses import replace

from providers.webai.errors import WebAIConfigError
from providers.webai.http_server import start_webai
from router.config import Config, ConfigError, WebAIConfig, load_config
from router.logs import log_fields, setup_logging

log = logging.getLogger("cliproxy.webai")
# Libraries whose own handlers would bypass the one line format: routed to the root's.
THIRD_PARTY_LOGGERS = ("g4f",)

EXIT_OK = 0
EXIT_BIND_FAILED = 1
EXIT_BAD_CONFIG = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m providers.webai",
        description="OpenAI-compatible WebAI service backed by gpt4free providers.",
    )
    parser.add_argument(
        "--config",
        default=None,
        help="config.yaml path (default: $CLIPROXY_CONFIG or ./config.yaml)",
    )
    return parser.parse_args(argv)


async def serve(cfg: WebAIConfig) -> None:
    runner, base_url = await start_webai(cfg)
    log_fields(
        log, logging.INFO, event="listening", url=base_url, providers=",".join(cfg.providers)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        log_fields(log, logging.INFO, event="stopping")
        await runner.cleanup()


def configure_logging() -> None:
    """The router's line format on stderr, g4f's records included."""
    setup_logging("info")
    for name in THIRD_PARTY_LOGGERS:
        third_party = logging.getLogger(name)
        third_party.handlers.clear()
        third_party.propagate = True


def settings(config: Config) -> WebAIConfig:
    """The webai section with the proxy in force for g4f put in: its own, else the
    top-level proxy-url ("direct": none)."""
    return replace(config.webai, proxy_url=config.proxy_for(config.webai.proxy_url).url)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging()
    try:
        cfg = settings(load_config(args.config))
        if not cfg.enabled:
            raise WebAIConfigError("webai.enabled is false")
        asyncio.run(serve(cfg))
    except ConfigError as exc:
        log_fields(log, logging.ERROR, event="config_error", error="; ".join(exc.problems))
        return EXIT_BAD_CONFIG
    except WebAIConfigError as exc:
        log_fields(log, logging.ERROR, event="config_error", error=str(exc))
        return EXIT_BAD_CONFIG
    except OSError as exc:
        log_fields(
            log,
            logging.ERROR,
            event="bind_failed",
            host=cfg.host,
            port=cfg.port,
            error=exc.strerror,
        )
        return EXIT_BIND_FAILED
    return EXIT_OK
