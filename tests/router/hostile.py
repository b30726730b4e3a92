"""Helpers for tests that send what no SDK would: raw bytes on a socket, error-shape checks
per client format, and a watch on the router's log for tracebacks."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from router.api.client_format import strip_amp_prefix


def expected_format(path: str) -> str:
    """The error shape a client calling ``path`` expects (independent of the router's code)."""
    path = strip_amp_prefix(path.split("?", 1)[0])
    if path.startswith("/v1/messages"):
        return "anthropic"
    if path.startswith("/v1beta") or (path.startswith("/v1/models/") and ":" in path):
        return "gemini"
    return "openai"


def error_message(fmt: str, body: Any) -> str:
    """The message of an error answer in ``fmt``'s shape; fails if the shape is wrong."""
    assert isinstance(body, dict), body
    error = body.get("error")
    assert isinstance(error, dict), body
    assert isinstance(error.get("message"), str) and error["message"], body
    if fmt == "anthropic":
        assert body.get("type") == "error", body
        assert isinstance(error.get("type"), str), body
    elif fmt == "gemini":
        assert isinstance(error.get("code"), int), body
        assert isinstance(error.get("status"), str), body
    else:
        assert isinstance(error.get("type"), str), body
        assert "code" in error and "param" in error, body
    return error["message"]


def parse_error(fmt: str, raw: bytes) -> str:
    return error_message(fmt, json.loads(raw))


async def raw_exchange(port: int, data: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send ``data`` on a fresh connection; the answer's status and body (read to close)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, body


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def watch_log() -> Iterator[list[logging.LogRecord]]:
    """Every record logged meanwhile (root logger, all levels)."""
    handler = _Records()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def tracebacks(records: list[logging.LogRecord]) -> list[str]:
    """Records that carry a traceback or are errors: none may appear for client faults."""
    return [
        f"{r.name} {r.levelname} {r.getMessage()} {r.exc_info!r}"
        for r in records
        if (r.exc_info or r.levelno >= logging.ERROR) and not _sdk_client_collected(r)
    ]


def _sdk_client_collected(record: logging.LogRecord) -> bool:
    """An SDK's HTTP client (openai, anthropic and google-genai share httpx2) that an
    earlier test left open, closing itself on that test's finished loop when the garbage
    collector gets to it: not the router's doing, whichever test it lands in."""
    message = record.getMessage()
    return (
        record.name == "asyncio"
        and "AsyncClient.aclose()" in message
        and "Event loop is closed" in message
    )
