"""Plain structured log lines: ``ts level logger key=value ...``, one per request."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

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


def logfmt(fields: dict[str, Any]) -> str:
    return " ".join(
        f"{_UNSAFE_KEY.sub('_', k)}={logfmt_value(v)}" for k, v in fields.items() if v is not None
    )


class LineFormatter(logging.Formatter):
    """``2026-01-01T00:00:00.123Z info router.request key=value ...``."""

    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        stamp = self._stamp
        fields = getattr(record, "fields", None)
        message = logfmt(fields) if fields else escape_controls(record.getMessage())
        line = (
            f"{stamp}.{int(record.msecs):03d}Z {record.levelname.lower()} {record.name} {message}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(level: str) -> None:
    """One line per record on stderr; skips the per-record work cliproxy never logs
    (caller frame lookup, thread and process names), which is most of logging's cost."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").disabled = True


def utc_iso(epoch: float) -> str:
    """``2026-11-21T20:05:20Z``: how status answers show a moment."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def log_fields(logger: logging.Logger, level: int, **fields: Any) -> None:
    """Log one structured line."""
    if logger.isEnabledFor(level):
        logger.log(level, "", extra={"fields": fields})


def log_exception_fields(logger: logging.Logger, **fields: Any) -> None:
    """Log one structured error line with the traceback of the exception being handled."""
    logger.error("", exc_info=True, extra={"fields": fields})
