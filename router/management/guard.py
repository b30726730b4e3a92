"""The gate in front of management routes: loopback by default, the secret, lockouts.

Without ``management.secret`` only loopback clients are answered. With it, every request
must carry the secret (``Authorization: Bearer`` or ``X-Management-Key``); an address
that fails ``max-failures`` times in a row is locked out for ``lockout`` seconds.
Failure counts survive config reloads.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from router.config.subscriptions import ManagementConfig
from router.errors import ErrorKind, ProxyError
from router.management.secret import ManagementSecret

MANAGEMENT_PREFIXES = ("/v1/auth/", "/v1/management/")
NO_SECRET_NOTICE = (
    "no management secret is set, so only this machine is answered; set management.secret "
    "in config.yaml to require one"
)
_TRACKED_ADDRESSES = 4096


def is_management_path(path: str) -> bool:
    return path.startswith(MANAGEMENT_PREFIXES) or path in ("/v1/auth", "/v1/management")


def is_loopback_address(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


@dataclass
class Failures:
    count: int = 0
    locked_until: float = 0.0


class ManagementGuard:
    def __init__(
        self, config: ManagementConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._failures: dict[str, Failures] = {}
        self.configure(config)

    def configure(self, config: ManagementConfig) -> None:
        self.config = config
        self.secret = ManagementSecret(config.secret) if config.secret else None

    def check(self, request: web.Request) -> None:
        """Raises ProxyError unless ``request`` may use a management route."""
        address = request.remote or ""
        if not self.config.allow_remote and not is_loopback_address(address):
            raise ProxyError(
                403,
                "management routes answer clients on this machine only; to allow others set "
                "management.secret and management.allow-remote: true in config.yaml",
                ErrorKind.PERMISSION,
            )
        if self.secret is None:
            return
        failures = self._failures.get(address)
        now = self._clock()
        if failures is not None and failures.locked_until > now:
            raise ProxyError(
                429,
                "too many failed management attempts from this address; locked out",
                ErrorKind.RATE_LIMIT,
                retry_after=failures.locked_until - now,
            )
        presented = _presented_secret(request)
        if presented and self.secret.matches(presented):
            self._failures.pop(address, None)
            return
        self._fail(address, now)
        raise ProxyError(
            401,
            "management secret missing or wrong: send it as Authorization: Bearer or "
            "X-Management-Key",
            ErrorKind.AUTHENTICATION,
        )

    def _fail(self, address: str, now: float) -> None:
        if len(self._failures) >= _TRACKED_ADDRESSES:
            stale = [a for a, f in self._failures.items() if f.locked_until <= now]
            for old in stale[: len(stale) // 2 + 1]:
                del self._failures[old]
        failures = self._failures.setdefault(address, Failures())
        if failures.locked_until and failures.locked_until <= now:
            failures.count = 0
            failures.locked_until = 0.0
        failures.count += 1
        if failures.count >= self.config.max_failures:
            failures.locked_until = now + self.config.lockout


def _presented_secret(request: web.Request) -> str:
    header = request.headers.get("X-Management-Key")
    if header:
        return header
    authorization = request.headers.get("Authorization", "")
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""
