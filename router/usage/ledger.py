"""The usage ledger: one SQLite row per generation or token-count request, written off the
request path. ``operation`` tells them apart (``generate`` or ``count_tokens``): a count's
``tokens_in`` is what it counted, not tokens used, so totals and budgets read only
``generate`` rows unless asked otherwise.

Requests only append a tuple to a bounded buffer. One writer thread takes the rows and
commits them in batches (when ``flush-rows`` rows are waiting or every ``flush-interval``
seconds, whichever comes first) in WAL mode, so a crash loses at most the rows not yet
committed and never leaves a torn database. A full buffer (``queue-size``) drops rows
(and counts them) rather than slow a request down. Rows older than ``retention-days``
are deleted once an hour.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from pathlib import Path

from router.config.usage import UsageConfig
from router.logs import log_fields

log = logging.getLogger("router.usage")

COLUMNS = (
    "ts",
    "request_id",
    "key",
    "format",
    "model",
    "provider",
    "credential",
    "upstream_model",
    "stream",
    "status",
    "error",
    "tokens_in",
    "tokens_out",
    "tokens_cached",
    "tokens_reasoning",
    "cost_usd",
    "api_equivalent_usd",
    "latency_ms",
    "ttft_ms",
    "operation",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    request_id TEXT, key TEXT, format TEXT, model TEXT, provider TEXT, credential TEXT,
    upstream_model TEXT, stream INTEGER, status INTEGER, error TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0, tokens_out INTEGER NOT NULL DEFAULT 0,
    tokens_cached INTEGER NOT NULL DEFAULT 0, tokens_reasoning INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL, api_equivalent_usd REAL, latency_ms REAL, ttft_ms REAL,
    operation TEXT NOT NULL DEFAULT 'generate'
);
CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts);
CREATE INDEX IF NOT EXISTS requests_key_ts ON requests (key, ts);
"""
GENERATE = "generate"
COUNT_TOKENS = "count_tokens"
# Columns added after the first release, added in place to a ledger file that predates them.
_ADDED_COLUMNS = {"operation": f"TEXT NOT NULL DEFAULT '{GENERATE}'"}
_INSERT = f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES "
_ROW_PLACES = "(" + ",".join("?" * len(COLUMNS)) + ")"
# Rows per INSERT statement: one statement is one sqlite3_step, so the writer hands the
# GIL back and forth once per statement instead of once per row (executemany).
_ROWS_PER_STATEMENT = 256
_RETENTION_CHECK = 3600.0

Row = tuple[object, ...]


def connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode with the schema in place (any thread may open one)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    connection = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed batch survives a killed process (not a power cut).
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(_SCHEMA)
    _migrate(connection)
    path.chmod(0o600)
    return connection


def _migrate(connection: sqlite3.Connection) -> None:
    """Add the columns a ledger written by an older cliproxy lacks (old rows: defaults)."""
    present = {row[1] for row in connection.execute("PRAGMA table_info(requests)")}
    with connection:
        for name, definition in _ADDED_COLUMNS.items():
            if name not in present:
                connection.execute(f"ALTER TABLE requests ADD COLUMN {name} {definition}")


def insert_rows(connection: sqlite3.Connection, rows: list[Row]) -> None:
    """``rows`` inserted with few statements, each of a power-of-two row count: sqlite3
    keeps every distinct statement text prepared (up to 128 of them), and one per batch
    size held ~12 MB of prepared statements; this way at most nine texts exist."""
    limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(COLUMNS)
    step = 1 << (max(1, min(_ROWS_PER_STATEMENT, limit)).bit_length() - 1)
    start = 0
    while start < len(rows):
        size = min(step, 1 << ((len(rows) - start).bit_length() - 1))
        chunk = rows[start : start + size]
        values = [value for row in chunk for value in row]
        connection.execute(_INSERT + ",".join([_ROW_PLACES] * size), values)
        start += size


class Ledger:
    def __init__(self, path: Path, config: UsageConfig) -> None:
        self.path = path
        self.config = config
        self.written = 0
        self.dropped = 0
        # A plain deque, not a queue.Queue: waking the writer for every row would hand
        # the GIL back and forth once per request. It is woken once per batch instead.
        self._pending: deque[Row] = deque()
        self._flushes: list[threading.Event] = []
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        connect(path).close()
        self._thread = threading.Thread(target=self._run, name="usage-ledger", daemon=True)
        self._thread.start()

    @property
    def queued(self) -> int:
        return len(self._pending)

    def add(self, row: Row) -> None:
        """Called on the event loop: never blocks."""
        pending = self._pending
        if len(pending) >= self.config.queue_size:
            self.dropped += 1
            return
        pending.append(row)
        if len(pending) == self.config.flush_rows:
            self._wake.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every row added before the call is committed (tests, queries)."""
        done = threading.Event()
        with self._flush_lock:
            self._flushes.append(done)
        self._wake.set()
        return done.wait(timeout)

    def close(self) -> None:
        """Commit what is pending and stop the writer."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=30.0)

    def _run(self) -> None:
        connection = connect(self.path)
        next_retention = 0.0
        try:
            while True:
                self._wake.wait(self.config.flush_interval)
                self._wake.clear()
                with self._flush_lock:
                    flushes, self._flushes = self._flushes, []
                    batch = self._take()
                self._commit(connection, batch)
                for done in flushes:
                    done.set()
                if self._stopping:
                    self._commit(connection, self._take())
                    return
                if time.monotonic() >= next_retention:
                    self._apply_retention(connection)
                    next_retention = time.monotonic() + _RETENTION_CHECK
        finally:
            connection.close()

    def _take(self) -> list[Row]:
        pending = self._pending
        return [pending.popleft() for _ in range(len(pending))]

    def _commit(self, connection: sqlite3.Connection, batch: list[Row]) -> None:
        if not batch:
            return
        try:
            with connection:
                insert_rows(connection, batch)
            self.written += len(batch)
        except sqlite3.Error as exc:
            self.dropped += len(batch)
            log_fields(
                log, logging.ERROR, event="usage_write_failed", rows=len(batch), error=str(exc)
            )

    def _apply_retention(self, connection: sqlite3.Connection) -> None:
        cutoff = time.time() - self.config.retention_days * 86400
        try:
            with connection:
                removed = connection.execute(
                    "DELETE FROM requests WHERE ts < ?", (cutoff,)
                ).rowcount
        except sqlite3.Error as exc:
            log_fields(log, logging.ERROR, event="usage_retention_failed", error=str(exc))
            return
        if removed:
            log_fields(log, logging.INFO, event="usage_retention", removed=removed)
