"""Plain structured log lines: ``ts level logger key=value ...``, one per request."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections import deque
from typing import Any, TextIO

_UNSAFE = re.compile(r"[^A-Za-z0-9_./:@+-]")
_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_.-]")
# Characters that could end or fake a line (or a field) in a terminal or log viewer.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """``text`` with every control character written as an escape, so it stays one line."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


def logfmt_value(value: Any) -> str:
    """A value as written in a log line: bare when plain, else quoted with escapes.

    Peer- and client-controlled text (session names, reasons) cannot start a new line,
    add a field or close the quotes early.
    """
    if type(value) is int or type(value) is float:
        return str(value)
    text = value if isinstance(value, str) else str(value)
    if text and not _UNSAFE.search(text):
        return text
    return '"' + escape_controls(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


# One ``key=%s key=%s ...`` template per set of field names: a process logs few distinct
# sets (one per kind of line), so each line is one ``%`` of its values into a template.
_TEMPLATES: dict[tuple[str, ...], str] = {}
_TEMPLATE_LIMIT = 4096


def _template(names: tuple[str, ...]) -> str:
    template = _TEMPLATES.get(names)
    if template is None:
        template = " ".join(_UNSAFE_KEY.sub("_", name) + "=%s" for name in names)
        if len(_TEMPLATES) < _TEMPLATE_LIMIT:
            _TEMPLATES[names] = template
    return template


def logfmt(fields: dict[str, Any]) -> str:
    """``key=value`` pairs of the fields that are not None, values quoted when needed."""
    names = tuple([name for name, value in fields.items() if value is not None])
    texts = [
        value if type(value) is str else str(value)
        for value in fields.values()
        if value is not None
    ]
    if not (all(texts) and not _UNSAFE.search("".join(texts))):
        texts = [logfmt_value(text) for text in texts]
    return _template(names) % tuple(texts)


class _Stamps:
    """``2026-01-01T00:00:00.123Z`` for a moment; the seconds part made once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def __call__(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._text}.{int((created - second) * 1000):03d}Z"


_LEVEL_NAMES = {level: logging.getLevelName(level).lower() for level in (10, 20, 30, 40, 50)}


class LineFormatter(logging.Formatter):
    """``2026-01-01T00:00:00.123Z info router.request key=value ...``."""

    def __init__(self) -> None:
        super().__init__()
        self._stamp = _Stamps()

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        message = logfmt(fields) if fields else escape_controls(record.getMessage())
        line = f"{self._stamp(record.created)} {record.levelname.lower()} {record.name} {message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line

    def fields_line(self, entry: Entry) -> str:
        """The line ``format`` makes of a ``log_fields`` record, made without the record."""
        created, level, logger, fields = entry
        name = _LEVEL_NAMES.get(level) or logging.getLevelName(level).lower()
        return f"{self._stamp(created)} {name} {logger} {logfmt(fields)}"


# A ``log_fields`` line not yet formatted: (time.time(), level, logger name, fields).
Entry = tuple[float, int, str, dict[str, Any]]


class BatchingHandler(logging.Handler):
    """Writes lines from a thread of its own.

    ``emit`` formats the record and appends the line; ``add_line`` also takes a
    ``log_fields`` line's parts (an ``Entry``), formatted by the writer thread with the
    rest of its batch (a loop over a few hundred lines costs less than as many scattered
    calls). The writer wakes when lines arrive, waits ``linger`` seconds for more and
    writes them with one call, so the event loop never waits on the stream and a busy
    router makes one write per batch. ``flush`` (called by ``logging.shutdown`` at exit)
    writes every line logged before it.
    """

    def __init__(self, stream: TextIO, linger: float = 0.05) -> None:
        super().__init__()
        self.stream = stream
        self.linger = linger
        self._pending: deque[str | Entry] = deque()
        self._wake = threading.Event()
        self._write_lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.add_line(line)

    def add_line(self, line: str | Entry) -> None:
        """Queue one finished line or entry. Under the handler's lock, as ``_take`` is: an
        empty queue means the writer is (or is about to be) waiting for a wake-up."""
        with self.lock:  # type: ignore[union-attr]  # made by Handler.__init__
            if not self._pending:
                self._pending.append(line)
                self._wake.set()
            else:
                self._pending.append(line)

    def _take(self) -> list[str]:
        with self.lock:  # type: ignore[union-attr]  # made by Handler.__init__
            taken = list(self._pending)
            self._pending.clear()
        return [line if isinstance(line, str) else self._entry_line(line) for line in taken]

    def _entry_line(self, entry: Entry) -> str:
        formatter = self.formatter
        assert isinstance(formatter, LineFormatter)
        try:
            return formatter.fields_line(entry)
        except Exception as exc:  # a value whose str() raised: the line says so, the rest go on
            created, level, logger, _fields = entry
            failed: Entry = (
                created,
                level,
                logger,
                {"event": "log_format_failed", "error": type(exc).__name__},
            )
            return formatter.fields_line(failed)

    def _write(self) -> None:
        with self._write_lock:  # batches reach the stream in the order they were taken
            lines = self._take()
            if not lines:
                return
            try:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass  # stderr gone (closed pipe): nowhere left to say so

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.linger)
            self._write()

    def flush(self) -> None:
        self._write()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.flush()
        super().close()


def setup_logging(level: str) -> None:
    """One line per record on stderr; skips the per-record work cliproxy never logs
    (caller frame lookup, thread and process names), which is most of logging's cost.
    Lines are written off the caller's thread (``BatchingHandler``)."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    global _DIRECT
    handler = BatchingHandler(sys.stderr)
    formatter = LineFormatter()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").disabled = True
    _DIRECT = _DirectLines(handler)


def utc_iso(epoch: float) -> str:
    """``2026-11-21T20:05:20Z``: how status answers show a moment."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class _DirectLines:
    """The request path's shortcut past ``logging``'s record, filters and handler lock for
    ``log_fields`` lines, taken only while the line would reach this one handler and no
    other: any handler added since (a test's log capture, a library's) gets records again.
    """

    def __init__(self, handler: BatchingHandler) -> None:
        self.handler = handler
        self.alone = [handler]
        self.root = logging.getLogger()

    def takes(self, logger: logging.Logger) -> bool:
        parent = logger.parent
        return (
            self.root.handlers == self.alone
            and not logger.handlers
            and logger.propagate
            and not logger.filters
            and (parent is None or parent is self.root or not parent.handlers)
        )


_DIRECT: _DirectLines | None = None


def log_fields(logger: logging.Logger, level: int, **fields: Any) -> None:
    """Log one structured line."""
    log_mapping(logger, level, fields)


def log_mapping(logger: logging.Logger, level: int, fields: dict[str, Any]) -> None:
    """``log_fields`` for fields already in a dict of the caller's. The dict is kept until
    its line is written (by the writer thread, or a record's handler): not changed after."""
    if not logger.isEnabledFor(level):
        return
    direct = _DIRECT
    if direct is not None and direct.takes(logger):
        direct.handler.add_line((time.time(), level, logger.name, fields))
    else:
        logger.log(level, "", extra={"fields": fields})


def log_exception_fields(logger: logging.Logger, **fields: Any) -> None:
    """Log one structured error line with the traceback of the exception being handled."""
    logger.error("", exc_info=True, extra={"fields": fields})
