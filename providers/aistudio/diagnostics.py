"""Screenshots and page HTML saved when a request fails, for a human to look at later."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from pathlib import Path

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from router.logs import log_fields

log = logging.getLogger("aistudio.diagnostics")


class Diagnostics:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def capture(self, page: Page, reason: str) -> Path | None:
        """Save ``<time>-<reason>.png`` and ``.html``; never raises."""
        slug = re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-")[:40] or "failure"
        stem = self.directory / f"{time.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns()}-{slug}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(stem.with_suffix(".png")), timeout=5000)
            stem.with_suffix(".html").write_text(await page.content(), encoding="utf-8")
        except (PlaywrightError, OSError) as exc:
            log_fields(
                log,
                logging.WARNING,
                event="diagnostics_failed",
                reason=slug,
                error=type(exc).__name__,
            )
            with contextlib.suppress(OSError):
                stem.with_suffix(".png").unlink(missing_ok=True)
            return None
        log_fields(log, logging.INFO, event="diagnostics_saved", path=stem)
        return stem
