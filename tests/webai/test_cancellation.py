"""A client that goes away must stop the generation inside the provider."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.webai.g4f_test_providers import EVENTS
from tests.webai.helpers import CHAT_PATH, auth_headers, chat_body, wait_until

STOPPED = ("cancelled", "closed")


def provider_stopped(name: str) -> bool:
    return any(f"{name}:{how}" in EVENTS for how in STOPPED)


async def test_disconnect_mid_stream_stops_the_provider_generator(start_service: Any) -> None:
    base_url = await start_service("SlowStream")
    session = aiohttp.ClientSession()
    try:
        response = await session.post(
            base_url + CHAT_PATH, json=chat_body(stream=True), headers=auth_headers()
        )
        assert response.status == 200
        first_line = await response.content.readline()
        assert first_line.startswith(b"data: ")
        assert "SlowStream:started" in EVENTS
        response.close()
    finally:
        await session.close()
    assert await wait_until(lambda: provider_stopped("SlowStream"), within=1.0), EVENTS
    assert "SlowStream:finished" not in EVENTS


async def test_disconnect_while_waiting_for_non_stream_answer_cancels_provider(
    start_service: Any,
) -> None:
    base_url = await start_service("Hang")
    async with aiohttp.ClientSession() as session:
        request = asyncio.ensure_future(
            session.post(base_url + CHAT_PATH, json=chat_body(), headers=auth_headers())
        )
        assert await wait_until(lambda: "Hang:started" in EVENTS, within=1.0)
        request.cancel()
    assert await wait_until(lambda: provider_stopped("Hang"), within=1.0), EVENTS


async def test_disconnect_before_first_chunk_cancels_provider(start_service: Any) -> None:
    base_url = await start_service("Hang")
    async with aiohttp.ClientSession() as session:
        request = asyncio.ensure_future(
            session.post(base_url + CHAT_PATH, json=chat_body(stream=True), headers=auth_headers())
        )
        assert await wait_until(lambda: "Hang:started" in EVENTS, within=1.0)
        request.cancel()
    assert await wait_until(lambda: provider_stopped("Hang"), within=1.0), EVENTS
