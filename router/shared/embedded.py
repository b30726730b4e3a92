"""``SharedState`` for the workers of one machine: SQLite, a version word and lock files.

Everything lives in one private directory. Cooldown writes are rare (a failure, a
reset), reads happen per request: a writer commits under an exclusive lock on the
version file and then bumps the 8-byte counter in it, which readers see through a
memory map, so a request only re-reads the table after something changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import mmap
import os
import re
import sqlite3
import struct
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from router.shared.base import MAX_HELD, CooldownKey, CooldownRow

_VERSION = struct.Struct("=Q")
_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cooldowns (provider TEXT, credential TEXT, model TEXT, "
    "until REAL, failures INTEGER, reason TEXT, PRIMARY KEY (provider, credential, model))",
    "CREATE TABLE IF NOT EXISTS workers (worker INTEGER PRIMARY KEY, document TEXT, updated REAL)",
    "CREATE TABLE IF NOT EXISTS admitted (name TEXT, at REAL)",
    "CREATE INDEX IF NOT EXISTS admitted_by_name ON admitted (name, at)",
    "CREATE TABLE IF NOT EXISTS held (name TEXT PRIMARY KEY, value TEXT, expires REAL)",
)
# A worker that has not published for this long is gone (it publishes every few seconds).
STALE_AFTER = 15.0
DOCUMENTS_CACHE = 0.5


class EmbeddedState:
    def __init__(self, directory: str | Path, worker: int) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.directory / "locks").mkdir(mode=0o700, exist_ok=True)
        self.worker = worker
        self._db = sqlite3.connect(
            self.directory / "shared.sqlite", timeout=5.0, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._version_fd = os.open(self.directory / "version", os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._version_fd).st_size < _VERSION.size:
            os.pwrite(self._version_fd, bytes(_VERSION.size), 0)
        self._version = mmap.mmap(self._version_fd, _VERSION.size)
        with self._writing(bump=False):
            for statement in _SCHEMA:
                self._db.execute(statement)
        self._local_locks: dict[str, asyncio.Lock] = {}
        self._documents: tuple[float, dict[int, dict[str, Any]]] = (0.0, {})

    @contextlib.contextmanager
    def _writing(self, *, bump: bool = True) -> Iterator[None]:
        """One writer at a time across processes; with ``bump`` the cooldown version
        moves after the commit."""
        fd = os.open(self.directory / "write.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            if bump:
                _VERSION.pack_into(self._version, 0, self.cooldowns_version() + 1)
        finally:
            os.close(fd)

    def cooldowns_version(self) -> int:
        return int(_VERSION.unpack_from(self._version, 0)[0])

    def cooldowns(self) -> list[CooldownRow]:
        rows = self._db.execute(
            "SELECT provider, credential, model, until, failures, reason FROM cooldowns"
        )
        return [CooldownRow(*row) for row in rows]

    def put_cooldown(self, row: CooldownRow) -> None:
        with self._writing():
            self._db.execute(
                "INSERT OR REPLACE INTO cooldowns VALUES (?, ?, ?, ?, ?, ?)",
                (row.provider, row.credential, row.model, row.until, row.failures, row.reason),
            )

    def delete_cooldowns(self, keys: list[CooldownKey]) -> None:
        if not keys:
            return
        with self._writing():
            self._db.executemany(
                "DELETE FROM cooldowns WHERE provider = ? AND credential = ? AND model = ?", keys
            )

    def hold(self, name: str, value: str, expires_at: float) -> None:
        with self._writing(bump=False):
            self._db.execute("DELETE FROM held WHERE expires <= ?", (time.monotonic(),))
            self._db.execute(
                "DELETE FROM held WHERE name NOT IN "
                "(SELECT name FROM held ORDER BY expires DESC LIMIT ?)",
                (MAX_HELD - 1,),
            )
            self._db.execute(
                "INSERT OR REPLACE INTO held VALUES (?, ?, ?)", (name, value, expires_at)
            )

    def take(self, name: str, now: float) -> str | None:
        with self._writing(bump=False):
            row = self._db.execute(
                "SELECT value, expires FROM held WHERE name = ?", (name,)
            ).fetchone()
            self._db.execute("DELETE FROM held WHERE name = ?", (name,))
        if row is None or row[1] <= now:
            return None
        return str(row[0])

    def peek(self, name: str, now: float) -> str | None:
        row = self._db.execute(
            "SELECT value FROM held WHERE name = ? AND expires > ?", (name, now)
        ).fetchone()
        return None if row is None else str(row[0])

    def admit_request(self, name: str, limit: int, now: float, window: float) -> float | None:
        with self._writing(bump=False):
            self._db.execute(
                "DELETE FROM admitted WHERE name = ? AND at <= ?", (name, now - window)
            )
            count, oldest = self._db.execute(
                "SELECT COUNT(*), MIN(at) FROM admitted WHERE name = ?", (name,)
            ).fetchone()
            if count >= limit:
                return float(oldest)
            self._db.execute("INSERT INTO admitted VALUES (?, ?)", (name, now))
        return None

    @contextlib.asynccontextmanager
    async def lock(self, name: str) -> AsyncIterator[None]:
        """A lock file per name; the wait for another process runs off the event loop."""
        local = self._local_locks.setdefault(name, asyncio.Lock())
        async with local:
            path = self.directory / "locks" / f"{_UNSAFE.sub('-', name)[:120]}.lock"
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def publish(self, document: dict[str, Any]) -> None:
        with self._writing(bump=False):
            self._db.execute(
                "INSERT OR REPLACE INTO workers VALUES (?, ?, ?)",
                (self.worker, json.dumps(document), time.time()),
            )
        self._documents = (0.0, {})

    def documents(self, fresh: bool = False) -> dict[int, dict[str, Any]]:
        read_at, cached = self._documents
        now = time.monotonic()
        if not fresh and now - read_at < DOCUMENTS_CACHE:
            return cached
        rows = self._db.execute(
            "SELECT worker, document, updated FROM workers WHERE updated > ?",
            (time.time() - STALE_AFTER,),
        )
        found = {
            int(worker): {**json.loads(text), "updated": updated} for worker, text, updated in rows
        }
        self._documents = (now, found)
        return found

    def forget(self) -> None:
        """This worker is stopping: take its document out at once."""
        with self._writing(bump=False):
            self._db.execute("DELETE FROM workers WHERE worker = ?", (self.worker,))

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.forget()
        self._version.close()
        os.close(self._version_fd)
        self._db.close()
