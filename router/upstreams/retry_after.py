"""Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date, never trusted blindly.

All three HTTP-date forms are read (IMF-fixdate, RFC 850, asctime; a date without a zone
is GMT, as HTTP-dates always are). Anything that is not a non-negative number of seconds
or a date in the future (negative, NaN, infinity, a date already past, garbage) says
nothing usable: the caller falls back to its usual backoff. A valid value is capped at
``limit`` seconds, so one answer cannot rest a credential for years.
"""

from __future__ import annotations

import re
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

DEFAULT_LIMIT = 3600.0
_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def retry_after_seconds(
    value: str | None, limit: float = DEFAULT_LIMIT, now: float | None = None
) -> float | None:
    """Seconds to wait from a Retry-After header value, or None when it is unusable."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return min(float(value), limit)
    seconds = _seconds_until(value, time.time() if now is None else now)
    return None if seconds is None else min(seconds, limit)


def _seconds_until(http_date: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = when.timestamp() - now
    return seconds if seconds > 0 else None
