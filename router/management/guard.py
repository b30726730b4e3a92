"""The gate in front of management routes: loopback by default, the secret, slow-downs.

Without ``management.secret`` only loopback clients are answered. With it, every request
must carry the secret (``Authorization: Bearer`` or ``X-Management-Key``). Wrong guesses
are slowed down by ``router/management/throttle.py``; a right secret is always let in.

The secret is checked with scrypt in a dedicated two-thread pool, never on the event
loop (hashlib's scrypt releases the GIL, so streams and /v1/health keep flowing). The
pool's queue is first-come first-served, so a flood of guesses delays the owner by
its length but cannot shut the owner out, and its cost bounds how fast guesses can be
tried in parallel. A faster check (a keyed hash cached after the first success) was
rejected on purpose: every guess must still be checked so the right one is never
refused, and then the per-check cost is the only limit on parallel guessing. A guess
whose client leaves while it waits in the queue is dropped unchecked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from router.config.secret import ManagementSecret
from router.config.subscriptions import ManagementConfig
from router.errors import ErrorKind, ProxyError
from router.management.throttle import FailureThrottle, address_group

MANAGEMENT_PREFIXES = ("/v1/auth/", "/v1/management/")
NO_SECRET_NOTICE = (
    "no management secret is set, so only this machine is answered; set management.secret "
    "in config.yaml to require one"
)
SCRYPT_THREADS = 2


def is_management_path(path: str) -> bool:
    return path.startswith(MANAGEMENT_PREFIXES) or path in ("/v1/auth", "/v1/management")


def is_loopback_address(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


class ManagementGuard:
    def __init__(
        self, config: ManagementConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._checker = ThreadPoolExecutor(SCRYPT_THREADS, thread_name_prefix="management-scrypt")
        self.throttle = FailureThrottle(config.max_failures, config.lockout, config.max_delay)
        self.configure(config)

    def configure(self, config: ManagementConfig) -> None:
        """Takes a (re)loaded config; failure counts survive."""
        self.config = config
        self.secret = ManagementSecret(config.secret) if config.secret else None
        self.throttle.configure(config.max_failures, config.lockout, config.max_delay)

    async def check(self, request: web.Request) -> None:
        """Raises ProxyError unless ``request`` may use a management route."""
        address = request.remote or ""
        if not self.config.allow_remote and not is_loopback_address(address):
            raise ProxyError(
                403,
                "management routes answer clients on this machine only; to allow others set "
                "management.secret and management.allow-remote: true in config.yaml",
                ErrorKind.PERMISSION,
            )
        secret = self.secret
        if secret is None:
            return
        presented = _presented_secret(request)
        if presented and await self._matches(secret, presented):
            return
        delay = self.throttle.fail(address_group(address), self._clock())
        if delay:
            await asyncio.sleep(delay)
        raise ProxyError(
            401,
            "management secret missing or wrong: send it as Authorization: Bearer or "
            "X-Management-Key"
            + ("; after repeated failures wrong secrets are answered slowly" if delay else ""),
            ErrorKind.AUTHENTICATION,
        )

    async def _matches(self, secret: ManagementSecret, presented: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._checker, secret.matches, presented)

    def close(self) -> None:
        self._checker.shutdown(wait=False, cancel_futures=True)


def _presented_secret(request: web.Request) -> str:
    header = request.headers.get("X-Management-Key")
    if header:
        return header
    authorization = request.headers.get("Authorization", "")
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""
