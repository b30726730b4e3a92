"""The fuzz suite's shared parts: settings, the tally of what was sent, the log watch,
the router config. One module, so the conftest hook and the tests share one tally."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings

from tests.translation.conftest import mesh_config

DEAD = "http://127.0.0.1:9"  # nothing listens here: no fuzz request may leave the machine
EXAMPLES_SCALE = float(os.environ.get("CLIPROXY_FUZZ_EXAMPLES", "1"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=max(1, int(examples * EXAMPLES_SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    hangs: int = 0
    tracebacks: int = 0
    # Where a codec gave way on a shape it did not check (answered 400 at the boundary).
    codec_faults: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"fuzz summary: requests={self.requests} 5xx={self.server_errors} "
            f"hangs={self.hangs} tracebacks={self.tracebacks} "
            f"codec_faults={sum(self.codec_faults.values())}"
        )


TALLY = Tally()


class LogWatch(logging.Handler):
    """Keeps error records and records with a traceback, from every logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.bad.append(record)
        fields = getattr(record, "fields", None)
        if record.name == "router.codec" and fields:
            where = f"{fields['at']} {fields['error']} ({fields['stage']}): {fields['detail']}"
            TALLY.codec_faults[where] = TALLY.codec_faults.get(where, 0) + 1


def fuzz_config(openai_fake, anthropic_fake, gemini_fake) -> dict:
    """The translation mesh (one provider per upstream format) with every outside service
    pointed at a dead loopback port and patterns no fuzzed model name matches."""
    oauth = {"authorize-url": DEAD + "/authorize", "token-url": DEAD + "/token"}
    return {
        **mesh_config(openai_fake, anthropic_fake, gemini_fake),
        "body-limit-mb": 2,
        "subscriptions": {
            "claude": {**oauth, "api-base": DEAD, "models": ["fuzz-sub-claude"]},
            "chatgpt": {**oauth, "backend-url": DEAD, "models": ["fuzz-sub-chatgpt"]},
            "ctonew": {"enabled": False},
        },
        "aistudio": {"model-pattern": "fuzz-aistudio-*"},
    }
