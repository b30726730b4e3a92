"""The small judgements failover relies on: what looks like an event stream, what is fd
exhaustion, and a body read that never keeps more than its limit."""

from __future__ import annotations

import errno

import aiohttp
import pytest

from router.routing.failover import read_body
from router.upstreams.base import UpstreamReply
from router.upstreams.faults import AnswerTooLarge, event_stream_problem, is_fd_exhaustion


@pytest.mark.parametrize(
    "first",
    [b"data: {}\n\n", b"event: message_start\n", b": ping\n\n", b"\n\nid: 1\n", b"da", b"\n"],
)
def test_event_stream_starts_are_accepted(first: bytes) -> None:
    assert event_stream_problem(first) is None
    assert event_stream_problem(b"\xef\xbb\xbf" + first) is None


@pytest.mark.parametrize("first", [b"<html>", b'{"id": 1}', b"HTTP/1.1 200 OK\r\n", b"dat x"])
def test_other_bodies_are_not_event_streams(first: bytes) -> None:
    assert event_stream_problem(first) is not None


def test_fd_exhaustion_is_recognised_however_wrapped() -> None:
    emfile = OSError(errno.EMFILE, "Too many open files")
    assert is_fd_exhaustion(emfile)
    assert is_fd_exhaustion(OSError(errno.ENFILE, "File table overflow"))
    wrapped = aiohttp.ClientOSError(errno.EMFILE, "Too many open files")
    assert is_fd_exhaustion(wrapped)
    try:
        try:
            raise emfile
        except OSError as inner:
            raise RuntimeError("connect failed") from inner
    except RuntimeError as outer:
        assert is_fd_exhaustion(outer)
    assert not is_fd_exhaustion(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))


class Pieces(UpstreamReply):
    status = 200
    headers: dict[str, str] = {}

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)
        self.read = 0

    async def next_chunk(self) -> bytes:
        if not self.pieces:
            return b""
        self.read += 1
        return self.pieces.pop(0)

    def close(self) -> None:
        self.pieces = []


async def test_read_body_stops_at_the_limit_without_keeping_more() -> None:
    reply = Pieces(b"a" * 10, b"b" * 10, b"c" * 10)
    with pytest.raises(AnswerTooLarge) as raised:
        await read_body(reply, 1.0, 15, cut=False)
    assert raised.value.limit == 15 and reply.read == 2
    assert await read_body(Pieces(b"a" * 10, b"b" * 10), 1.0, 15) == b"a" * 10 + b"b" * 5
    assert await read_body(Pieces(b"a" * 10, b"b" * 5), 1.0, 15, cut=False) == b"a" * 10 + b"b" * 5
