"""Hostile input against every endpoint and format of an in-process router in front of the
strict fakes. Each request must answer within a timeout, never with a 5xx, always with an
error in the caller's own format when it fails, and leave no traceback in the log; the
router must still serve a normal request afterwards."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from hypothesis import given
from yarl import URL

from tests.fuzz.harness import EXAMPLES_SCALE, TALLY, LogWatch, fuzz_settings
from tests.fuzz.strategies import (
    Attempt,
    management_requests,
    mutated_generation,
    odd_requests,
    raw_generation,
    raw_http,
)
from tests.router.hostile import error_message, expected_format, port_of

REQUEST_TIMEOUT = 15.0
pytestmark = pytest.mark.timeout(int(120 * max(1.0, EXAMPLES_SCALE)))
# The AI Studio service is not running in this test: its management routes say so (503).
SERVICE_ABSENT = ("/v1/auth/aistudio",)


def _check(attempt: Attempt, status: int, body: bytes, watch: LogWatch) -> None:
    TALLY.requests += 1
    where = attempt.describe()
    if watch.bad:
        TALLY.tracebacks += 1
        records = [f"{r.name}: {r.getMessage()} {r.exc_info!r}" for r in watch.bad]
        watch.bad.clear()
        raise AssertionError(f"error logged for {where}: {records}")
    # CONNECT names a host, not a path: the router cannot tell the format and uses OpenAI's.
    path = attempt.path if attempt.method.upper() != "CONNECT" else "/"
    if status >= 500 and not (status == 503 and path.startswith(SERVICE_ABSENT)):
        TALLY.server_errors += 1
        raise AssertionError(f"{status} for {where}: {body[:500]!r}")
    if status >= 400 and attempt.method.upper() != "HEAD":
        try:
            error_message(expected_format(path), json.loads(body))
        except (AssertionError, ValueError) as exc:
            raise AssertionError(
                f"{status} not in the caller's format for {where}: {exc}"
            ) from None


async def _send(http: aiohttp.ClientSession, base: str, attempt: Attempt) -> tuple[int, bytes]:
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            async with http.request(
                attempt.method,
                URL(base + attempt.path, encoded=True),
                data=attempt.body,
                headers=attempt.headers,
            ) as response:
                return response.status, await response.read()
    except TimeoutError:
        TALLY.hangs += 1
        raise AssertionError(
            f"no answer within {REQUEST_TIMEOUT} s: {attempt.describe()}"
        ) from None


async def _still_healthy(http: aiohttp.ClientSession, base: str) -> None:
    async with http.get(base + "/v1/health") as response:
        assert response.status == 200
    body = {"model": "via-anthropic", "messages": [{"role": "user", "content": "still there?"}]}
    async with http.post(base + "/v1/chat/completions", json=body) as response:
        assert response.status == 200, await response.text()
        assert (await response.json())["choices"][0]["message"]["content"]


async def _run(router, log_watch: LogWatch, strategy, examples: int) -> None:
    """Hypothesis drives from a worker thread; each request runs on this test's loop,
    where the router and the fakes live."""
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(auto_decompress=False) as http:

        @fuzz_settings(examples)
        @given(attempt=strategy)
        def one(attempt: Attempt) -> None:
            sent = asyncio.run_coroutine_threadsafe(_send(http, router.url, attempt), loop)
            status, body = sent.result()
            _check(attempt, status, body, log_watch)

        await asyncio.to_thread(one)
        await _still_healthy(http, router.url)


async def test_generation_with_one_field_made_wrong(fuzz_router, log_watch) -> None:
    await _run(fuzz_router, log_watch, mutated_generation(), 600)


async def test_generation_with_bodies_that_are_not_requests(fuzz_router, log_watch) -> None:
    await _run(fuzz_router, log_watch, raw_generation(), 150)


async def test_odd_paths_methods_and_queries(fuzz_router, log_watch) -> None:
    await _run(fuzz_router, log_watch, odd_requests(), 200)


async def test_auth_and_management_routes(fuzz_router, log_watch) -> None:
    await _run(fuzz_router, log_watch, management_requests(), 150)


async def _raw_exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        writer.write_eof()
        try:
            return await asyncio.wait_for(reader.read(), REQUEST_TIMEOUT)
        except TimeoutError:
            TALLY.hangs += 1
            raise AssertionError(f"no answer to {data[:200]!r}") from None
    finally:
        writer.close()


def _check_raw(data: bytes, answer: bytes, log_watch: LogWatch) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        TALLY.requests += 1
        assert answer == b"", answer[:200]  # closed without an answer: fine, if quietly
        assert not log_watch.bad, [r.getMessage() for r in log_watch.bad]
        return
    words = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    attempt = Attempt(words[0], words[1] if len(words) > 1 else "/", data)
    status = int(head.split(b" ")[1])
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    _check(attempt, status, body, log_watch)


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        length = int(size, 16)
        if not length:
            break
        out, body = out + rest[:length], rest[length + 2 :]
    return out


async def test_broken_http_on_a_raw_socket(fuzz_router, log_watch) -> None:
    loop = asyncio.get_running_loop()
    port = port_of(fuzz_router.url)

    @fuzz_settings(100)
    @given(data=raw_http())
    def one(data: bytes) -> None:
        answer = asyncio.run_coroutine_threadsafe(_raw_exchange(port, data), loop).result()
        _check_raw(data, answer, log_watch)

    await asyncio.to_thread(one)
    async with aiohttp.ClientSession() as http:
        await _still_healthy(http, fuzz_router.url)
