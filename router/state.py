"""The router's long-lived state: the current Runtime, cooldowns, relay hub, config reloads."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

import psutil
from aiohttp import web

from router import heap
from router.config import Config, ConfigError, LoadedConfig, read_config
from router.credentials import CredentialStore
from router.credentials.recovery import recover_interrupted_writes
from router.formats.reasoning_cache import REASONING_CACHE
from router.logs import log_fields
from router.management.guard import ManagementGuard
from router.oauth.login import LoginFlows
from router.relay import RelayHub
from router.relay.key import with_relay_key
from router.relay.workers import WorkerRelays
from router.routing.cooldown import Cooldowns
from router.runtime import Runtime
from router.shared import EmbeddedState, LocalState, SharedState, WorkerRole
from router.shared.peers import WorkerPeers
from router.usage.observer import UsageObserver

log = logging.getLogger("router.config")

# Seconds between a worker's health documents (router/shared/: stale after 15).
HEARTBEAT_INTERVAL = 1.0


class RouterState:
    def __init__(
        self,
        loaded: LoadedConfig,
        config_path: str | Path | None = None,
        role: WorkerRole | None = None,
    ) -> None:
        self.config_path = config_path
        loaded = with_relay_key(loaded)
        # One of several worker processes shares cooldowns, locks and health (issue 16).
        self.role = role
        self.shared: SharedState = (
            EmbeddedState(role.directory, role.index) if role is not None else LocalState()
        )
        self.cooldowns = Cooldowns(loaded.config.routing.cooldown, shared=self.shared)
        self.relay = RelayHub()
        # The relay as requests see it: with several workers, other workers' sessions too.
        self.peers = WorkerPeers(role) if role is not None else None
        self.relays: RelayHub | WorkerRelays = (
            WorkerRelays(self.relay, self.shared, self.peers) if self.peers else self.relay
        )
        if role is not None:
            # Other workers route to a new session from the moment it connects.
            self.relay.on_change = self.publish_document
        self.credentials = CredentialStore(loaded.config.auth_dir, shared=self.shared)
        if role is not None:
            REASONING_CACHE.share(self.shared)
        if role is None or role.index == 0:
            recover_interrupted_writes(self.credentials.directory)
        self.logins = LoginFlows(self.credentials)
        self.management = ManagementGuard(loaded.config.management)
        self.runtime = Runtime(loaded, self.cooldowns, self.relays, self.credentials)
        self.usage = UsageObserver(self, loaded.config)
        self.started_at = time.time()
        self._background: set[asyncio.Task[Any]] = set()
        self._refresher: asyncio.Task[None] | None = None

    def start_background(self) -> None:
        """Begin refreshing subscription tokens ahead of expiry (needs a running loop),
        and, as one of several workers, publishing this worker's health."""
        if self._refresher is not None:
            self._refresher.cancel()
        loop = asyncio.get_running_loop()
        self._refresher = loop.create_task(self.runtime.subscriptions.refresh_forever())
        if self.role is not None and not any(t.get_name() == "heartbeat" for t in self._background):
            self.keep_background(loop.create_task(self._heartbeat(), name="heartbeat"))

    def worker_document(self) -> dict[str, Any]:
        """What this worker tells the others: health and the relay sessions it holds."""
        return {
            "worker": self.shared.worker,
            "pid": os.getpid(),
            "started_at": self.started_at,
            "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
            "relay_sessions": self.relay.sessions(),
            "key_spend": self.usage.limits.published(),
        }

    def publish_document(self) -> None:
        self.shared.publish(self.worker_document())

    async def _heartbeat(self) -> None:
        while True:
            self.publish_document()
            await asyncio.sleep(HEARTBEAT_INTERVAL)

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
        unapplied = [
            key
            for key, value in _restart_only(new_config).items()
            if value != _restart_only(old.config)[key]
        ]
        if unapplied:
            log_fields(
                log,
                logging.WARNING,
                event="reload_restart_needed",
                keys=",".join(unapplied),
                reason="these keys take effect after a restart",
            )
        self.cooldowns.config = new_config.routing.cooldown
        self.management.configure(new_config.management)
        if CredentialStore(new_config.auth_dir).directory != self.credentials.directory:
            self.credentials = CredentialStore(new_config.auth_dir, shared=self.shared)
            self.logins = LoginFlows(self.credentials)
        self.runtime = Runtime(loaded, self.cooldowns, self.relays, self.credentials)
        self.usage.configure(new_config)
        if self._refresher is not None:
            self.start_background()
        logging.getLogger().setLevel(new_config.log_level.upper())
        retire = asyncio.get_running_loop().create_task(old.retire())
        self._background.add(retire)
        retire.add_done_callback(self._background.discard)
        retire.add_done_callback(_settle_heap)
        log_fields(log, logging.INFO, event="reloaded", providers=len(self.runtime.upstreams))
        return True

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        for task in list(self._background):
            task.cancel()
        self.relay.on_change = None  # sessions closing now are not news to anyone
        await self.relay.close()
        await self.runtime.close()
        self.management.close()
        self.usage.drain()
        await asyncio.to_thread(self.usage.close)
        if self.peers is not None:
            await self.peers.close()
        self.shared.close()


def _settle_heap(_: asyncio.Task[None]) -> None:
    """The replaced runtime is gone once it retired: collect it, freeze the new one."""
    heap.settle()


STATE: web.AppKey[RouterState] = web.AppKey("state", RouterState)


def _restart_only(config: Config) -> dict[str, object]:
    """The keys a reload cannot apply to a running router: its socket, its processes and
    its event loop are made once, at start."""
    return {
        "host": config.host,
        "port": config.port,
        "workers": config.workers,
        "server.event-loop": config.server.event_loop,
    }
