"""Log lines are built where they are logged and written by a thread of their own: every
line arrives, in order, with its request id, and nothing is lost at exit."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import time

from router.logs import BatchingHandler, LineFormatter, log_fields


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_lines_are_written_off_the_callers_thread_in_order() -> None:
    stream = io.StringIO()
    handler = BatchingHandler(stream, linger=0.001)
    handler.setFormatter(LineFormatter())
    logger = _logger(handler, "test.log_writer.thread")
    for i in range(500):
        log_fields(logger, logging.INFO, request_id=f"r{i:04d}", status=200, note="a b")
    deadline = time.monotonic() + 5
    while stream.getvalue().count("\n") < 500 and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = stream.getvalue().splitlines()
    assert [line.split()[3] for line in lines] == [f"request_id=r{i:04d}" for i in range(500)]
    assert all(line.endswith('status=200 note="a b"') for line in lines)
    handler.close()


def test_flush_writes_what_is_pending() -> None:
    stream = io.StringIO()
    handler = BatchingHandler(stream, linger=30.0)  # the thread would wait for half a minute
    handler.setFormatter(LineFormatter())
    logger = _logger(handler, "test.log_writer.flush")
    log_fields(logger, logging.INFO, request_id="first")
    log_fields(logger, logging.INFO, request_id="second")
    handler.flush()
    assert [line.split()[3] for line in stream.getvalue().splitlines()] == [
        "request_id=first",
        "request_id=second",
    ]


def test_every_line_reaches_stderr_when_the_process_exits() -> None:
    script = (
        "import logging\n"
        "from router.logs import log_fields, setup_logging\n"
        "setup_logging('info')\n"
        "log = logging.getLogger('router.request')\n"
        "for i in range(2000):\n"
        "    log_fields(log, logging.INFO, request_id=f'id{i}', status=200)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stderr.splitlines()
    assert [line.split()[3] for line in lines] == [f"request_id=id{i}" for i in range(2000)]


def test_the_direct_path_writes_the_line_a_record_would_and_yields_to_other_handlers() -> None:
    script = (
        "import io, logging, sys\n"
        "from router import logs\n"
        "logs.setup_logging('info')\n"
        "log = logging.getLogger('router.request')\n"
        "logs.log_fields(log, logging.WARNING, request_id='direct', status=200, note='a b')\n"
        "captured = io.StringIO()\n"
        "other = logging.StreamHandler(captured)\n"
        "other.setFormatter(logs.LineFormatter())\n"
        "logging.getLogger().addHandler(other)\n"
        "logs.log_fields(log, logging.WARNING, request_id='record', status=200, note='a b')\n"
        "logging.shutdown()\n"
        "print(captured.getvalue(), end='')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    written = done.stderr.splitlines()
    seen_by_other = done.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in written] == [
        'warning router.request request_id=direct status=200 note="a b"',
        'warning router.request request_id=record status=200 note="a b"',
    ]
    assert [line.split(" ", 1)[1] for line in seen_by_other] == [
        'warning router.request request_id=record status=200 note="a b"'
    ]
    assert all(line[:24].endswith("Z") and line[10] == "T" for line in written + seen_by_other)
