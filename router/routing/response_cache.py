"""Upstream answers kept in memory and replayed (issue 15's response cache).

The key is what makes two requests the same to an upstream: its name, the model, its wire
format, streamed or not, the headers forwarded to it and the body bytes as encoded for it
(hashed). A miss wraps the upstream's reply in a ``RecordingReply`` that keeps the chunks
as they pass; the caller stores them only once the answer is known to be whole (a 2xx,
a stream that ended with its format's final event, within ``max-entry-kb``). A hit is a
``ReplayReply`` that gives the same chunks back, so translation, streaming and usage run
as for a fresh answer and a stream is replayed as a stream.

Each route with ``cache`` has its own LRU bucket (``max-entries``, ``ttl``); all buckets
together stay under ``response-cache.max-mb``, the least recently used entry of any
bucket going first. The cache is per router process and is emptied by a reload.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from router.config.cache import RouteCacheConfig
from router.errors import ProxyError
from router.formats import Request
from router.formats.errors import FormatError
from router.formats.ir import ToolResultPart
from router.routing.failover import Opened
from router.routing.selector import Candidate
from router.upstreams.base import UpstreamCall, UpstreamReply

_KIB = 1024
_MIB = 1024 * 1024
# Headers a replay needs; rate-limit headers of the original answer would be stale.
_KEPT_HEADERS = ("Content-Type",)
# What memory an entry takes besides its bytes, roughly: the entry, its key, headers and
# bucket slot, and per chunk a bytes object's header and its tuple slot. A stream of many
# small chunks takes noticeably more than its bytes.
ENTRY_OVERHEAD = 512
CHUNK_OVERHEAD = sys.getsizeof(b"") + 8


@dataclass(slots=True)
class Entry:
    """One stored answer; ``size``: the memory it is counted for (bytes and overhead)."""

    status: int
    headers: Mapping[str, str]
    chunks: tuple[bytes, ...]
    size: int
    expires: float
    # When it was stored or last replayed (the LRU order across buckets).
    used: float


def skip_reason(decode: Callable[[], Request], config: RouteCacheConfig) -> str | None:
    """Why a request on a cached route must be answered fresh, else None.

    A request samples when its temperature is above 0 or unset (the upstream's default,
    usually 1.0, samples too); one whose last message carries tool results waits on an
    agent's tool. ``decode``: the request's lazy IR (decoded once, shared with rules and
    encoders).
    """
    try:
        request = decode()
    except (FormatError, ProxyError):
        return "undecodable"
    if not config.any_temperature and (request.temperature is None or request.temperature > 0):
        return "temperature"
    last = request.messages[-1].parts if request.messages else []
    if not config.with_tool_results and any(isinstance(p, ToolResultPart) for p in last):
        return "tool_results"
    return None


def cache_key(candidate: Candidate, call: UpstreamCall) -> bytes:
    """What the upstream would see: who, which model and format, how, and the body."""
    upstream = candidate.upstream
    head = json.dumps(
        [
            upstream.name,
            call.model,
            str(upstream.wire_format),
            call.stream,
            call.operation,
            sorted(call.headers.items()),
        ]
    ).encode()
    digest = hashlib.sha256(head)
    digest.update(b"\0")
    digest.update(call.body)
    return digest.digest()


class ReplayReply(UpstreamReply):
    """A stored answer, given back chunk by chunk as the upstream first sent it."""

    def __init__(self, entry: Entry, start: int = 0) -> None:
        self.status = entry.status
        self.headers = entry.headers
        self._chunks = iter(entry.chunks[start:])

    async def next_chunk(self) -> bytes:
        return next(self._chunks, b"")

    def close(self) -> None:
        self._chunks = iter(())


class RecordingReply(UpstreamReply):
    """Passes an upstream reply through, keeping its chunks up to ``limit`` bytes."""

    def __init__(self, reply: UpstreamReply, key: bytes, limit: int) -> None:
        self.status = reply.status
        self.headers = reply.headers
        self.key = key
        self.ended = False
        self.too_large = False
        self.chunks: list[bytes] = []
        self._size = 0
        self._limit = limit
        self._reply = reply

    async def next_chunk(self) -> bytes:
        chunk = await self._reply.next_chunk()
        if not chunk:
            self.ended = True
        elif not self.too_large:
            self._size += len(chunk)
            if self._size > self._limit:
                self.too_large = True
                self.chunks.clear()
            else:
                self.chunks.append(chunk)
        return chunk

    def close(self) -> None:
        self._reply.close()

    @property
    def size(self) -> int:
        return self._size


class Bucket:
    """One route's entries, least recently used first."""

    def __init__(self, config: RouteCacheConfig) -> None:
        self.config = config
        self.entries: OrderedDict[bytes, Entry] = OrderedDict()


class ResponseCache:
    """Every cached route's bucket, under one bound on the memory kept (``bytes``: the
    answers' bytes and an estimate of their overhead)."""

    def __init__(
        self,
        configs: Iterable[RouteCacheConfig],
        max_mb: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._buckets = {id(config): Bucket(config) for config in configs}
        self.max_bytes = int(max_mb * _MIB)
        self.bytes = 0
        self.evictions = 0
        self._clock = clock

    def __len__(self) -> int:
        return sum(len(bucket.entries) for bucket in self._buckets.values())

    def bucket(self, config: RouteCacheConfig) -> Bucket:
        return self._buckets[id(config)]

    def get(self, bucket: Bucket, key: bytes) -> Entry | None:
        entry = bucket.entries.get(key)
        if entry is None:
            return None
        now = self._clock()
        if entry.expires <= now:
            self._drop(bucket, key)
            return None
        bucket.entries.move_to_end(key)
        entry.used = now
        return entry

    def put(self, bucket: Bucket, recording: RecordingReply) -> bool:
        """Keep a whole answer; False when it is over a size bound."""
        size = recording.size + ENTRY_OVERHEAD + CHUNK_OVERHEAD * len(recording.chunks)
        if recording.too_large or size > self.max_bytes:
            return False
        now = self._clock()
        if recording.key in bucket.entries:
            self._drop(bucket, recording.key)
        headers = {name: value for name in _KEPT_HEADERS if (value := recording.headers.get(name))}
        chunks = tuple(recording.chunks)
        bucket.entries[recording.key] = Entry(
            recording.status, headers, chunks, size, now + bucket.config.ttl, now
        )
        self.bytes += size
        while len(bucket.entries) > bucket.config.max_entries:
            self._drop(bucket, next(iter(bucket.entries)))
            self.evictions += 1
        while self.bytes > self.max_bytes:
            self._evict_oldest()
        return True

    def _evict_oldest(self) -> None:
        oldest: tuple[float, Bucket, bytes] | None = None
        for bucket in self._buckets.values():
            if bucket.entries:
                key, entry = next(iter(bucket.entries.items()))
                if oldest is None or entry.used < oldest[0]:
                    oldest = (entry.used, bucket, key)
        assert oldest is not None
        self._drop(oldest[1], oldest[2])
        self.evictions += 1

    def _drop(self, bucket: Bucket, key: bytes) -> None:
        self.bytes -= bucket.entries.pop(key).size


class CacheSession:
    """One request's use of a route's bucket: look up each candidate, record the miss."""

    def __init__(self, cache: ResponseCache, config: RouteCacheConfig) -> None:
        self._cache = cache
        self._bucket = cache.bucket(config)
        self._limit = config.max_entry_kb * _KIB
        self._key = b""
        self.hit = False

    def lookup(self, candidate: Candidate, call: UpstreamCall, attempts: int) -> Opened | None:
        """The stored answer for this candidate's call as if the upstream had just sent it.

        ``attempts``: upstream attempts made before this one, for the log line.
        """
        self._key = cache_key(candidate, call)
        entry = self._cache.get(self._bucket, self._key)
        if entry is None:
            return None
        self.hit = True
        now = time.monotonic()
        if call.stream:
            return Opened(
                candidate, ReplayReply(entry, 1), attempts, now, first_chunk=entry.chunks[0]
            )
        body = b"".join(entry.chunks)
        return Opened(
            candidate, ReplayReply(entry), attempts, now, body=body, payload=json.loads(body)
        )

    def record(self, reply: UpstreamReply) -> UpstreamReply:
        """The reply to use instead: a recording of it when it is a success."""
        if not 200 <= reply.status < 300:
            return reply
        return RecordingReply(reply, self._key, self._limit)

    def store(self, opened: Opened) -> str:
        """Keep the answer ``opened`` carried, once the caller found it whole.

        Returns what happened, for the log: ``store``, or why not.
        """
        reply = opened.reply
        if not isinstance(reply, RecordingReply) or not reply.ended:
            return "incomplete"
        return "store" if self._cache.put(self._bucket, reply) else "too_large"
