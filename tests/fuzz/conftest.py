"""The fuzz suite's router, its tally, and the summary line printed after the run.

Run alone with ``.venv/bin/python -m pytest tests/fuzz -q``; the last lines of the
terminal summary say ``fuzz summary: requests=... 5xx=... hangs=...``. Examples are
derandomized (the same inputs every run, so CI failures reproduce); set
``CLIPROXY_FUZZ_EXAMPLES`` to run more of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.conftest import StartRouter
from tests.fuzz.harness import TALLY, LogWatch, fuzz_config


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.requests:
        terminalreporter.write_line(TALLY.line())
        for where, count in sorted(TALLY.codec_faults.items()):
            terminalreporter.write_line(f"fuzz codec fault x{count}: {where}")


@pytest.fixture
def log_watch() -> Iterator[LogWatch]:
    watch = LogWatch()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(watch)
    root.setLevel(logging.INFO)
    yield watch
    root.removeHandler(watch)
    root.setLevel(previous)


@pytest.fixture
async def fuzz_router(router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake):
    return await router_factory(fuzz_config(openai_fake, anthropic_fake, gemini_fake))
