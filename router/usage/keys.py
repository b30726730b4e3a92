"""Client keys issued by cliproxy: generated here, shown once, stored as a SHA-256 hash.

They live in ``client-keys.json`` in the data directory (0600, written atomically), not
in the SQLite ledger: the file is tiny, written only when a key is created or revoked,
read into memory (a lookup never touches the disk), works with the ledger turned off,
and is re-read when it changes on disk, so ``python -m router keys ...`` takes effect
in a running router within a second. It is not kept in auth-dir because the credential
store reads every ``*.json`` there as an upstream account. SHA-256 suffices for keys
with 256 random bits (nothing to brute-force); every lookup compares all hashes in
constant time.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from router.credentials.atomic import write_private_json

KEY_PREFIX = "sk-cliproxy-"
KEYS_FILE = "client-keys.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_RESCAN_INTERVAL = 1.0
LIMIT_FIELDS = (
    "requests_per_minute",
    "tokens_per_day",
    "tokens_per_month",
    "cost_per_day",
    "cost_per_month",
)


class KeyRequestError(ValueError):
    """A key request that cannot be honoured; the message names the field."""

    def __init__(self, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field_name


@dataclass(frozen=True)
class Limits:
    """None means unlimited. Costs are US dollars (see router/usage/prices.py)."""

    requests_per_minute: int | None = None
    tokens_per_day: int | None = None
    tokens_per_month: int | None = None
    cost_per_day: float | None = None
    cost_per_month: float | None = None


@dataclass(frozen=True)
class IssuedKey:
    name: str
    sha256: str
    created_at: float
    prefix: str
    expires_at: float | None = None
    models: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    revoked_at: float | None = None

    def allows_model(self, model: str) -> bool:
        return not self.models or any(fnmatch.fnmatchcase(model, p) for p in self.models)

    def public(self) -> dict[str, Any]:
        """What list and create answers show: never the hash."""
        shown = asdict(self)
        del shown["sha256"]
        shown["models"] = list(self.models)
        return shown


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _limits(data: Any) -> Limits:
    if not isinstance(data, dict):
        data = {}
    values: dict[str, Any] = {}
    for name in LIMIT_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or value <= 0:
            raise KeyRequestError(f"limits.{name}: expected a number > 0, got {value!r}", name)
        if name.startswith(("tokens", "requests")) and value != int(value):
            raise KeyRequestError(f"limits.{name}: expected a whole number, got {value!r}", name)
        values[name] = int(value) if name.startswith(("tokens", "requests")) else float(value)
    unknown = set(data) - set(LIMIT_FIELDS)
    if unknown:
        raise KeyRequestError(
            f"limits.{sorted(unknown)[0]}: unknown limit (expected {', '.join(LIMIT_FIELDS)})",
            "limits",
        )
    return Limits(**values)


def _from_json(data: dict[str, Any]) -> IssuedKey:
    return IssuedKey(
        name=data["name"],
        sha256=data["sha256"],
        created_at=float(data["created_at"]),
        prefix=data.get("prefix", ""),
        expires_at=data.get("expires_at"),
        models=tuple(data.get("models") or ()),
        limits=_limits(data.get("limits")),
        revoked_at=data.get("revoked_at"),
    )


class KeyStore:
    """The issued keys of one data directory."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = directory / KEYS_FILE
        self._clock = clock
        self._keys: dict[str, IssuedKey] = {}
        self._signature: tuple[int, int] | None = None
        self._checked_at = float("-inf")
        self.problem: str | None = None
        self._reload_if_changed()

    def all(self) -> list[IssuedKey]:
        self._reload_if_changed()
        return sorted(self._keys.values(), key=lambda k: k.created_at)

    @property
    def any_active(self) -> bool:
        self._reload_if_changed()
        return any(k.revoked_at is None for k in self._keys.values())

    def find(self, presented: str | None) -> IssuedKey | None:
        """The issued key (live, expired or revoked) whose hash matches, compared in
        constant time against every stored hash."""
        if not presented or not presented.startswith(KEY_PREFIX):
            return None
        self._reload_if_changed()
        candidate = hash_key(presented).encode()
        found = None
        for key in self._keys.values():
            if hmac.compare_digest(candidate, key.sha256.encode()) and found is None:
                found = key
        return found

    def create(
        self,
        name: object,
        *,
        expires_at: float | None = None,
        models: tuple[str, ...] = (),
        limits: dict[str, Any] | None = None,
        taken: frozenset[str] = frozenset(),
    ) -> tuple[IssuedKey, str]:
        """A new key and its secret (the only time the secret exists outside a client)."""
        self._reload_if_changed(force=True)
        if not isinstance(name, str) or not _NAME.match(name):
            raise KeyRequestError(
                f"name: expected letters, digits, '.', '_' or '-' (at most 64), got {name!r}",
                "name",
            )
        if name in self._keys or name in taken:
            raise KeyRequestError(f"name: a key named {name!r} already exists", "name")
        if expires_at is not None and expires_at <= self._clock():
            raise KeyRequestError("expires_at: expected a time in the future", "expires_at")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = IssuedKey(
            name=name,
            sha256=hash_key(secret),
            created_at=self._clock(),
            prefix=secret[: len(KEY_PREFIX) + 4],
            expires_at=expires_at,
            models=tuple(models),
            limits=_limits(limits),
        )
        self._keys[name] = key
        self._save()
        return key, secret

    def revoke(self, name: str) -> IssuedKey | None:
        self._reload_if_changed(force=True)
        key = self._keys.get(name)
        if key is None:
            return None
        if key.revoked_at is None:
            key = replace(key, revoked_at=self._clock())
            self._keys[name] = key
            self._save()
        return key

    def _save(self) -> None:
        records = []
        for key in self._keys.values():
            record = asdict(key)
            record["models"] = list(key.models)
            record["limits"] = {k: v for k, v in record["limits"].items() if v is not None}
            records.append(record)
        write_private_json(self.path, {"keys": records})
        with contextlib.suppress(OSError):
            stat = self.path.stat()
            self._signature = (stat.st_mtime_ns, stat.st_size)

    def _reload_if_changed(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked_at < _RESCAN_INTERVAL:
            return
        self._checked_at = now
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._keys, self._signature = {}, None
            return
        except OSError as exc:
            self.problem = f"{self.path} unreadable: {type(exc).__name__}"
            return
        signature = (stat.st_mtime_ns, stat.st_size)
        if signature == self._signature:
            return
        try:
            records = json.loads(self.path.read_text())["keys"]
            keys = {r["name"]: _from_json(r) for r in records}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Keep the keys we had: a half-edited file must not open or close the door.
            self.problem = f"{self.path.name} unreadable: {type(exc).__name__}"
            return
        self._keys, self._signature, self.problem = keys, signature, None
