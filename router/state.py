"""The router's long-lived state: the current Runtime, cooldowns, relay hub, config reloads."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from router.config import ConfigError, LoadedConfig, read_config
from router.credentials import CredentialStore
from router.credentials.recovery import recover_interrupted_writes
from router.logs import log_fields
from router.management.guard import ManagementGuard
from router.oauth.login import LoginFlows
from router.relay import RelayHub
from router.relay.key import with_relay_key
from router.routing.cooldown import Cooldowns
from router.runtime import Runtime
from router.usage.observer import UsageObserver

log = logging.getLogger("router.config")


class RouterState:
    def __init__(self, loaded: LoadedConfig, config_path: str | Path | None = None) -> None:
        self.config_path = config_path
        loaded = with_relay_key(loaded)
        self.cooldowns = Cooldowns(loaded.config.routing.cooldown)
        self.relay = RelayHub()
        self.credentials = CredentialStore(loaded.config.auth_dir)
        recover_interrupted_writes(self.credentials.directory)
        self.logins = LoginFlows(self.credentials)
        self.management = ManagementGuard(loaded.config.management)
        self.runtime = Runtime(loaded, self.cooldowns, self.relay, self.credentials)
        self.usage = UsageObserver(self, loaded.config)
        self.started_at = time.time()
        self._background: set[asyncio.Task[Any]] = set()
        self._refresher: asyncio.Task[None] | None = None

    def start_background(self) -> None:
        """Begin refreshing subscription tokens ahead of expiry (needs a running loop)."""
        if self._refresher is not None:
            self._refresher.cancel()
        self._refresher = asyncio.get_running_loop().create_task(
            self.runtime.subscriptions.refresh_forever()
        )

    def keep_background(self, task: asyncio.Task[Any]) -> None:
        """Hold a reference to ``task`` until it ends; cancelled at close."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def schedule_reload(self) -> None:
        """SIGHUP handler: reload without blocking the signal callback."""
        task = asyncio.get_running_loop().create_task(self.reload())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def reload(self) -> bool:
        """Swap in the config from disk; a bad config is logged and the old one stays."""
        try:
            loaded = read_config(self.config_path)
        except ConfigError as exc:
            for problem in exc.problems:
                log_fields(log, logging.ERROR, event="reload_rejected", problem=problem)
            return False
        old = self.runtime
        loaded = with_relay_key(loaded)
        new_config = loaded.config
        if (new_config.host, new_config.port) != (old.config.host, old.config.port):
            log_fields(
                log,
                logging.WARNING,
                event="reload_restart_needed",
                reason="host and port changes take effect after a restart",
            )
        self.cooldowns.config = new_config.routing.cooldown
        self.management.configure(new_config.management)
        if CredentialStore(new_config.auth_dir).directory != self.credentials.directory:
            self.credentials = CredentialStore(new_config.auth_dir)
            self.logins = LoginFlows(self.credentials)
        self.runtime = Runtime(loaded, self.cooldowns, self.relay, self.credentials)
        self.usage.configure(new_config)
        if self._refresher is not None:
            self.start_background()
        logging.getLogger().setLevel(new_config.log_level.upper())
        retire = asyncio.get_running_loop().create_task(old.retire())
        self._background.add(retire)
        retire.add_done_callback(self._background.discard)
        log_fields(log, logging.INFO, event="reloaded", providers=len(self.runtime.upstreams))
        return True

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        for task in list(self._background):
            task.cancel()
        await self.relay.close()
        await self.runtime.close()
        self.management.close()
        await asyncio.to_thread(self.usage.close)


STATE: web.AppKey[RouterState] = web.AppKey("state", RouterState)
