"""Log lines are built where they are logged and written by a thread of their own: every
line arrives, in order, with its request id, and nothing is lost at exit."""

from __future__ import annotations

import calendar
import io
import logging
import subprocess
import sys
import time

from router.logs import BatchingHandler, LineFormatter, log_fields


def _run(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter; its stdout and stderr as text."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )


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
    done = _run(script)
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


def _direct_script(body: str) -> str:
    return (
        "import logging, time\n"
        "from router import logs\n"
        "logs.setup_logging('info')\n"
        "logs._DIRECT.handler.linger = 30.0\n"
        "log = logging.getLogger('router.request')\n" + body + "logging.shutdown()\n"
    )


def test_a_direct_line_is_stamped_when_logged_not_when_the_writer_formats_it() -> None:
    script = _direct_script(
        "before = time.time()\n"
        "logs.log_fields(log, logging.INFO, request_id='stamped')\n"
        "after = time.time()\n"
        "time.sleep(0.4)\n"
        "print(before, after)\n"
    )
    done = _run(script)
    before, after = (float(value) for value in done.stdout.split())
    stamp = done.stderr.split()[0]
    logged = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    logged += int(stamp[20:23]) / 1000
    assert before - 0.001 <= logged <= after + 0.001, (stamp, before, after)


def test_a_value_that_cannot_be_written_costs_its_line_only() -> None:
    script = _direct_script(
        "class Broken:\n"
        "    def __str__(self):\n"
        "        raise RuntimeError('no text')\n"
        "logs.log_fields(log, logging.INFO, request_id='first')\n"
        "logs.log_fields(log, logging.INFO, request_id='broken', value=Broken())\n"
        "logs.log_fields(log, logging.INFO, request_id='last')\n"
    )
    done = _run(script)
    fields = [line.split(" ", 3)[3] for line in done.stderr.splitlines()]
    assert fields == [
        "request_id=first",
        "event=log_format_failed error=RuntimeError",
        "request_id=last",
    ]
