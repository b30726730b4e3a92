"""The process's open-file limit, raised toward its hard limit at start.

Each client connection, upstream connection and log or credential file is a descriptor;
the usual soft limit of 1024 runs out at a few hundred concurrent streams while the hard
limit is far higher. Raising the soft limit needs no privilege.
"""

from __future__ import annotations

import resource

# Enough for thousands of concurrent streams; an unlimited hard limit is not followed.
TARGET = 65536


def raise_fd_limit(target: int = TARGET) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to ``min(target, hard)``; return (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
        except (ValueError, OSError):
            return soft, hard
        soft = ceiling
    return soft, hard
