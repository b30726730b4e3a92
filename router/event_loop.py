"""Run the router's main coroutine on the loop ``server.event-loop`` chooses."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from router.config.event_loop import UVLOOP, chosen_event_loop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T], setting: str) -> T:
    if chosen_event_loop(setting) == UVLOOP:
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def running_loop_name() -> str:
    """``uvloop`` or ``asyncio``: the loop this coroutine runs on, for the start-up line."""
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]
