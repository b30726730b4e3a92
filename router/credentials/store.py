"""One JSON file per credential in auth-dir; files added or removed by hand are picked up.

A file's ``type`` field names its provider (``claude``, ``chatgpt``, ``ctonew``); its
name without ``.json`` is the credential id. Files that cannot be read are reported by
``problems`` and otherwise ignored, so a broken file never stops the router.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import re
import time
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from router.credentials.atomic import write_private_json
from router.shared import LocalState, SharedState

RESCAN_INTERVAL = 1.0
_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")


def credential_id(provider: str, label: str) -> str:
    """A file-name-safe id such as ``claude-ada@example.com``."""
    slug = _UNSAFE.sub("-", label).strip("-.") or "account"
    return f"{provider}-{slug}"[:120]


@dataclass(frozen=True)
class StoredCredential:
    """A credential file's content; ``data`` holds secrets and is left out of repr."""

    provider: str
    id: str
    data: Mapping[str, Any] = field(repr=False)

    @property
    def label(self) -> str:
        return str(self.data.get("email") or self.data.get("label") or self.id)

    @property
    def expires_at(self) -> float | None:
        value = self.data.get("expires_at")
        return float(value) if isinstance(value, (int, float)) else None


class CredentialStore:
    """The credential files of one auth directory, re-read when they change on disk."""

    def __init__(
        self,
        directory: str | Path,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedState | None = None,
    ) -> None:
        self.directory = Path(directory).expanduser()
        self._clock = clock
        # Other worker processes use the same files: refreshes take a shared lock.
        self.shared: SharedState = shared or LocalState()
        self._scanned_at = float("-inf")
        self._seen: dict[str, tuple[int, int]] = {}
        self._credentials: dict[str, StoredCredential] = {}
        self._problems: dict[str, str] = {}

    def list(self, provider: str) -> list[StoredCredential]:
        self._rescan_if_due()
        return sorted(
            (c for c in self._credentials.values() if c.provider == provider),
            key=lambda c: c.id,
        )

    def get(self, provider: str, credential_id: str) -> StoredCredential | None:
        self._rescan_if_due()
        found = self._credentials.get(credential_id)
        return found if found is not None and found.provider == provider else None

    def reread(self, provider: str, credential_id: str) -> StoredCredential | None:
        """``get`` after looking at the disk now (another process may have written)."""
        self._scanned_at = float("-inf")
        return self.get(provider, credential_id)

    def problems(self) -> dict[str, str]:
        """File name -> why it could not be used."""
        self._rescan_if_due()
        return dict(self._problems)

    def save(self, provider: str, credential_id: str, data: Mapping[str, Any]) -> StoredCredential:
        content = {**data, "type": provider}
        path = self._path(credential_id)
        write_private_json(path, content)
        credential = StoredCredential(provider, credential_id, types.MappingProxyType(content))
        self._credentials[credential_id] = credential
        self._problems.pop(path.name, None)
        with contextlib.suppress(OSError):
            stat = path.stat()
            self._seen[path.name] = (stat.st_mtime_ns, stat.st_size)
        return credential

    def update(self, credential: StoredCredential, changes: Mapping[str, Any]) -> StoredCredential:
        """Merge ``changes`` into the newest version of ``credential`` and write it."""
        current = self.get(credential.provider, credential.id) or credential
        return self.save(credential.provider, credential.id, {**current.data, **changes})

    def delete(self, provider: str, credential_id: str | None = None) -> builtins.list[str]:
        """Remove one credential of ``provider`` (or all of them); returns the ids removed."""
        removed = []
        for credential in self.list(provider):
            if credential_id is not None and credential.id != credential_id:
                continue
            path = self._path(credential.id)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self._credentials.pop(credential.id, None)
            self._seen.pop(path.name, None)
            removed.append(credential.id)
        return removed

    def _path(self, credential_id: str) -> Path:
        if not credential_id or "/" in credential_id or credential_id.startswith("."):
            raise ValueError(f"invalid credential id {credential_id!r}")
        return self.directory / f"{credential_id}.json"

    def _rescan_if_due(self) -> None:
        now = self._clock()
        if now - self._scanned_at < RESCAN_INTERVAL:
            return
        self._scanned_at = now
        try:
            entries = [
                e
                for e in os.scandir(self.directory)
                if e.name.endswith(".json") and not e.name.startswith(".") and e.is_file()
            ]
        except FileNotFoundError:
            entries = []
        current: dict[str, tuple[int, int]] = {}
        for entry in entries:
            stat = entry.stat()
            current[entry.name] = (stat.st_mtime_ns, stat.st_size)
        for name in set(self._seen) - set(current):
            self._credentials.pop(name.removesuffix(".json"), None)
            self._problems.pop(name, None)
        for name, signature in current.items():
            if self._seen.get(name) != signature:
                self._load(name)
        self._seen = current

    def _load(self, name: str) -> None:
        credential_id = name.removesuffix(".json")
        self._credentials.pop(credential_id, None)
        try:
            data = json.loads((self.directory / name).read_text())
        except (OSError, ValueError) as exc:
            self._problems[name] = f"unreadable: {type(exc).__name__}"
            return
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            self._problems[name] = "not a credential: expected a JSON object with a 'type'"
            return
        self._problems.pop(name, None)
        self._credentials[credential_id] = StoredCredential(
            data["type"], credential_id, types.MappingProxyType(data)
        )
