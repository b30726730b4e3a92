"""Running out of file descriptors while connecting upstream is the router's own trouble:
a 503 that says so, a log field, and no credential cooled."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psutil
import pytest

from tests.conftest import StartRouter
from tests.faults.clients import MODEL, Fakes, fault_config, request_for


@contextmanager
def no_free_fds() -> Iterator[int]:
    """Lower the soft open-file limit a little above what is open and use up the rest."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (psutil.Process().num_fds() + 32, hard))
    held: list[int] = []
    try:
        while True:
            try:
                held.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                break
        yield len(held)
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_emfile_connecting_upstream_is_a_503_and_cools_nothing(
    router_factory: StartRouter, fakes: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    router = await router_factory(fault_config(fakes))
    path, body = request_for("openai", MODEL["openai"], stream=False)
    payload = json.dumps(body).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", urlsplit(router.url).port)
    await asyncio.sleep(0.1)  # the router accepts the connection while fds remain
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with caplog.at_level(logging.INFO), no_free_fds() as used:
        assert used > 0
        writer.write(head + payload)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    assert b" 503 " in status_line, raw[:300]
    error = json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]
    assert "out of file descriptors" in error["message"]
    assert router.state.cooldowns.active("p-openai") == []
    assert fakes.openai.requests == []
    events = [getattr(r, "fields", {}).get("event") for r in caplog.records]
    assert "fd_exhausted" in events
