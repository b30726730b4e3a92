"""The lean stream apparatus stream-latency is judged with: bench.lean_upstream's timed
chunks and the bare-protocol client that times them (bench.streams.measure_streams_lean)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bench.processes import Processes
from bench.streams import measure_streams_lean
from bench.upstream import COMPLETION

CHUNKS = 5
INTERVAL = 0.02


async def test_every_chunk_of_every_stream_is_timed_as_it_arrives(tmp_path: Path) -> None:
    async with Processes(tmp_path) as processes:
        upstream = await processes.start_lean_upstream(CHUNKS, INTERVAL)
        measured = await measure_streams_lean(upstream.url + "/v1/chat/completions", 3, INTERVAL)
    assert measured.failures == 0
    assert measured.chunks_per_stream == [CHUNKS] * 3
    assert len(measured.delays_ms) == 3 * CHUNKS
    assert all(0 <= delay < 1000 for delay in measured.delays_ms)  # ms, stamped as sent
    # Chunks come on a timer: a stream lasts its intervals, not one write.
    assert measured.wall_s >= (CHUNKS - 1) * INTERVAL


async def test_a_stream_that_is_not_200_counts_as_failed(tmp_path: Path) -> None:
    async with Processes(tmp_path) as processes:
        upstream = await processes.start_lean_upstream(CHUNKS, INTERVAL)
        measured = await measure_streams_lean(upstream.url + "/v1/nowhere", 2, 0.0)
    assert measured.failures == 2
    assert measured.delays_ms == []


async def test_the_lean_upstream_still_answers_whole_requests_on_the_same_connection(
    tmp_path: Path,
) -> None:
    async with Processes(tmp_path) as processes:
        upstream = await processes.start_lean_upstream(CHUNKS, INTERVAL)
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as http:
            url = upstream.url + "/v1/chat/completions"
            async with http.post(url, json={"stream": True}) as streamed:
                assert streamed.headers["Content-Type"] == "text/event-stream"
                text = await streamed.text()
            assert text.count('"sent_ns":') == CHUNKS
            assert text.endswith("data: [DONE]\n\n")
            async with http.post(url, json={"model": "m"}) as whole:
                assert await whole.read() == COMPLETION
