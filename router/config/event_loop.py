"""``server.event-loop``: the asyncio event loop the router runs on (router/event_loop.py).

``auto`` is uvloop when it is installed (libuv's loop: its transports and its poll step
are C; about 6% less CPU per proxied request here) and the standard library's loop
otherwise; ``asyncio`` keeps the standard loop whatever is installed.
"""

from __future__ import annotations

import importlib.util

from router.config.binder import Problems, did_you_mean

AUTO = "auto"
ASYNCIO = "asyncio"
UVLOOP = "uvloop"
EVENT_LOOPS = (AUTO, ASYNCIO, UVLOOP)


def uvloop_installed() -> bool:
    return importlib.util.find_spec(UVLOOP) is not None


def chosen_event_loop(setting: str) -> str:
    """``asyncio`` or ``uvloop``: what ``setting`` means on this machine."""
    if setting == AUTO:
        return UVLOOP if uvloop_installed() else ASYNCIO
    return setting


def check_event_loop(setting: str, path: str, problems: Problems) -> None:
    if setting not in EVENT_LOOPS:
        hint = did_you_mean(setting, list(EVENT_LOOPS))
        problems.add(path, f"unknown event loop {setting!r}{hint}")
    elif setting == UVLOOP and not uvloop_installed():
        problems.add(path, "uvloop is not installed (pip install uvloop), or use auto")
