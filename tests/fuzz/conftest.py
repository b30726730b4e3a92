"""The fuzz suite's router, its tally, and the summary line printed after the run.

Run alone with ``.venv/bin/python -m pytest tests/fuzz -q``; the last lines of the
terminal summary say ``fuzz summary: requests=... 5xx=... hangs=...``. Examples are
derandomized (the same inputs every run, so CI failures reproduce); set
``CLIPROXY_FUZZ_EXAMPLES`` to run more of them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from router.server import RunningRouter
from tests.conftest import StartRouter
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
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
async def fuzz_router(router_factory: StartRouter) -> AsyncIterator[RunningRouter]:
    """The router in front of fakes that keep no record of requests (thousands of bodies
    of up to 2 MiB would otherwise pile up in memory)."""
    async with (
        OpenAIFake(record=False) as openai_fake,
        AnthropicFake(record=False) as anthropic_fake,
        GeminiFake(record=False) as gemini_fake,
    ):
        yield await router_factory(fuzz_config(openai_fake, anthropic_fake, gemini_fake))
