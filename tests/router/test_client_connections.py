"""Slow and idle client connections are closed within the server.* timeouts and give
their file descriptors back; a request that is merely long-running is not cut."""

from __future__ import annotations

import asyncio
import configparser
import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from router.server import RunningRouter
from tests.conftest import StartRouter
from tests.fakes.behaviours import Stream
from tests.router.hostile import parse_error, port_of
from tests.router.test_config import problems_for
from tests.translation.conftest import client_model, mesh_config

pytestmark = pytest.mark.both_loops

REPO = Path(__file__).resolve().parents[2]
SLACK = 3.0
CONNECTIONS = 40


async def _router(router_factory: StartRouter, fakes, **server: float) -> RunningRouter:
    # No usage ledger: its SQLite files (database, WAL, shared memory) open as the first
    # row is written, which would read as descriptors held for client connections here.
    config = {**mesh_config(*fakes), "usage": {"enabled": False}}
    return await router_factory({**config, "server": server})


@pytest.fixture
def fakes(openai_fake, anthropic_fake, gemini_fake):
    return openai_fake, anthropic_fake, gemini_fake


def _open_connections(router: RunningRouter) -> int:
    server = router.runner.server
    assert server is not None
    return len(server.connections)


async def _settled(router: RunningRouter, fds_before: int, within: float = SLACK) -> None:
    """The router holds no client connection and the process no extra descriptor."""
    process = psutil.Process()
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if _open_connections(router) == 0 and process.num_fds() <= fds_before:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"connections={_open_connections(router)} fds={process.num_fds()} before={fds_before}"
    )


async def _accepted(router: RunningRouter, count: int) -> None:
    """Wait for the server to have taken up ``count`` connections: a client's connect
    returns once the kernel accepted, and uvloop hands the socket over a moment later."""
    deadline = time.monotonic() + SLACK
    while _open_connections(router) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert _open_connections(router) == count


async def _read_until_closed(reader: asyncio.StreamReader, limit: float) -> bytes:
    """Everything the server sent before it closed the connection. A client still writing
    when the server closes gets a reset after the answer (TCP's rule for data sent to a
    closed socket): what arrived before the reset counts, though StreamReader.read would
    raise instead of returning it."""
    received = bytearray()

    async def read_all() -> None:
        while chunk := await reader.read(65536):
            received.extend(chunk)

    try:
        await asyncio.wait_for(read_all(), limit)
    except ConnectionResetError:
        received.extend(reader._buffer)  # fed before the reset, not yet handed out
    return bytes(received)


async def _many(count: int, opener) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    return await asyncio.gather(*(opener() for _ in range(count)))


async def test_slow_headers_are_cut_off_and_fds_come_back(router_factory, fakes) -> None:
    router = await _router(router_factory, fakes, **{"header-timeout": 0.5})
    port = port_of(router.url)
    fds_before = psutil.Process().num_fds()

    async def slow_headers():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        await writer.drain()
        return reader, writer

    opened = time.monotonic()
    connections = await _many(CONNECTIONS, slow_headers)
    await _accepted(router, CONNECTIONS)
    answers = await asyncio.gather(*(_read_until_closed(r, 0.5 + SLACK) for r, _ in connections))
    assert answers == [b""] * CONNECTIONS  # closed by the router, nothing half-answered
    assert time.monotonic() - opened >= 0.45
    for _, writer in connections:
        writer.close()
    await _settled(router, fds_before)


async def test_trickled_headers_are_cut_off_too(router_factory, fakes) -> None:
    """A byte every 0.1 s keeps no idle timer from firing; the header deadline still does."""
    router = await _router(router_factory, fakes, **{"header-timeout": 0.6})
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(router.url))
    started = time.monotonic()

    async def trickle() -> None:
        for byte in b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200:
            if writer.is_closing():
                return
            writer.write(bytes([byte]))
            await asyncio.sleep(0.1)

    trickling = asyncio.ensure_future(trickle())
    assert await _read_until_closed(reader, 0.6 + SLACK) == b""
    assert 0.5 <= time.monotonic() - started < 0.6 + SLACK
    trickling.cancel()
    writer.close()


async def test_connection_that_sends_nothing_is_closed(router_factory, fakes) -> None:
    router = await _router(router_factory, fakes, **{"header-timeout": 0.4})
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(router.url))
    assert await _read_until_closed(reader, 0.4 + SLACK) == b""
    writer.close()


@pytest.mark.parametrize("trickle", [False, True])
async def test_slow_bodies_get_408_in_the_callers_format(router_factory, fakes, trickle) -> None:
    router = await _router(router_factory, fakes, **{"body-timeout": 0.6})
    port = port_of(router.url)
    fds_before = psutil.Process().num_fds()
    body = json.dumps({"model": client_model("openai"), "max_tokens": 5, "messages": []})

    async def slow_body():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10].encode()
        )
        await writer.drain()
        return reader, writer

    async def keep_trickling(writer: asyncio.StreamWriter) -> None:
        for byte in body[10:-1].encode():
            if writer.is_closing():
                return
            writer.write(bytes([byte]))
            await asyncio.sleep(0.05)

    count = CONNECTIONS // 2
    connections = await _many(count, slow_body)
    trickles = [asyncio.ensure_future(keep_trickling(w)) for _, w in connections] if trickle else []
    answers = await asyncio.gather(*(_read_until_closed(r, 0.6 + SLACK) for r, _ in connections))
    for answer in answers:
        head, _, payload = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer[:200]
        assert "server.body-timeout" in parse_error("anthropic", payload)
    for task in trickles:
        task.cancel()
    for _, writer in connections:
        writer.close()
    await _settled(router, fds_before)


async def test_idle_keepalive_connection_is_closed(router_factory, fakes) -> None:
    router = await _router(
        router_factory, fakes, **{"header-timeout": 30, "keepalive-timeout": 0.5}
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(router.url))
    writer.write(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))[15:]
    )
    await reader.readexactly(length)
    answered = time.monotonic()
    assert await _read_until_closed(reader, 0.5 + SLACK) == b""
    assert time.monotonic() - answered >= 0.4
    writer.close()


async def test_a_long_request_outlives_the_header_timeout(router_factory, fakes) -> None:
    """The header clock stops when the headers are in: a stream may run far longer."""
    openai_fake = fakes[0]
    router = await _router(router_factory, fakes, **{"header-timeout": 0.3, "body-timeout": 0.3})
    openai_fake.script.push(Stream(chunks=8, interval=0.15))
    body = json.dumps(
        {"model": client_model("openai"), "messages": [{"role": "user", "content": "hi"}]}
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(router.url))
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )
    await asyncio.sleep(0.15)
    writer.write(body.encode())
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"w7" in answer  # every chunk arrived, 1.2 s after the headers


async def test_settings_come_from_the_config_on_each_new_connection(router_factory, fakes) -> None:
    router = await _router(router_factory, fakes, **{"keepalive-timeout": 12.5})
    _, writer = await asyncio.open_connection("127.0.0.1", port_of(router.url))
    await asyncio.sleep(0.05)
    (connection,) = router.runner.server.connections
    assert connection.keepalive_timeout == 12.5
    writer.close()


def test_server_settings_are_checked(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path, {"server": {"header-timeout": 0, "max-json-depth": -1, "body": 3}}
    )
    assert problems[0].startswith("server.body: unknown key") and "body-timeout" in problems[0]
    bad = {"server": {"header-timeout": 0, "max-json-depth": -1}}
    assert problems_for(tmp_path, bad) == [
        "server.header-timeout: expected a number > 0, got 0.0",
        "server.max-json-depth: expected a number > 0, got -1",
    ]


def test_supervisord_gives_the_router_enough_fds() -> None:
    parser = configparser.RawConfigParser()
    parser.read(REPO / "supervisord.conf")
    assert int(parser["supervisord"]["minfds"]) >= 4096


def test_router_raises_its_soft_fd_limit_toward_the_hard_limit() -> None:
    script = (
        "import json, resource\n"
        "from router.fdlimit import raise_fd_limit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "reported = raise_fd_limit(4096)\n"
        "print(json.dumps([reported, resource.getrlimit(resource.RLIMIT_NOFILE), hard]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    reported, actual, hard = json.loads(run.stdout)
    expected = 4096 if hard == -1 else min(4096, hard)
    assert reported == [expected, hard]
    assert actual == [expected, hard]
