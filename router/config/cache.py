"""Config sections of the response cache (issue 15): per route, and one global bound.

A route with ``cache`` answers a request identical to one it answered within ``ttl``
seconds (same target, same body as sent upstream) from memory. router/routing/
response_cache.py keeps the entries; router/generation/cached.py decides which requests may use
them.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.config.binder import Problems, check_positive, join


@dataclass(frozen=True)
class RouteCacheConfig:
    """Opt-in caching of a route's answers.

    Requests with sampling (a temperature above 0, or none: the upstream's default is
    usually 1.0) and requests whose last message carries tool results are answered fresh
    unless ``any_temperature`` / ``with_tool_results`` say otherwise.
    """

    # Seconds an answer is replayed after it was stored.
    ttl: float = 300.0
    # Answers kept for this route; the least recently used goes first.
    max_entries: int = 256
    # Answers larger than this (KiB, as the upstream sent them) are not kept.
    max_entry_kb: int = 512
    any_temperature: bool = False
    with_tool_results: bool = False

    def check(self, path: str, problems: Problems) -> None:
        check_positive({"ttl": self.ttl}, path, problems)
        for key, value in (("max-entries", self.max_entries), ("max-entry-kb", self.max_entry_kb)):
            if value < 1:
                problems.add(join(path, key), f"expected an integer >= 1, got {value}")


@dataclass(frozen=True)
class ResponseCacheConfig:
    """The bound on all routes' cached answers together, per router process."""

    max_mb: float = 64.0

    def check(self, path: str, problems: Problems) -> None:
        check_positive({"max_mb": self.max_mb}, path, problems)
