"""A minimal OpenAI-compatible upstream for benchmarks: ``python -m bench.upstream``.

POST /v1/chat/completions answers a fixed small completion at once (POST /v1/messages a
fixed Anthropic message, for the translating path), or (``"stream":
true``) ``--chunks`` SSE chunks ``--interval`` seconds apart (in Anthropic's event shape
on /v1/messages). Every chunk carries
``"sent_ns"``: ``time.monotonic_ns()`` taken just before it is written, so a client on the
same machine can measure how long the chunk took to reach it (CLOCK_MONOTONIC is
system-wide on Linux). The tests/fakes servers validate and record requests, which costs
time a throughput run would measure; this one does neither.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from collections.abc import Callable

from aiohttp import web

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "bench-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ok"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
).encode()

MESSAGE = json.dumps(
    {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": "bench-claude",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }
).encode()

CHUNK_HEAD = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,'
    b'"model":"bench-model","choices":[{"index":0,"delta":{"content":"tok "},'
    b'"finish_reason":null}],"sent_ns":'
)
STREAM_END = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,'
    b'"model":"bench-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


ANTHROPIC_HEAD = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_bench",'
    b'"type":"message","role":"assistant","model":"bench-claude","content":[],'
    b'"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}'
    b"\n\n"
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
)
ANTHROPIC_DELTA = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"tok "}}\n\n'
)
ANTHROPIC_END = (
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
    b'"stop_sequence":null},"usage":{"output_tokens":1}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


async def stream_events(
    request: web.Request,
    head: bytes,
    chunk: Callable[[], bytes],
    end: bytes,
    plan: tuple[int, float],
) -> web.StreamResponse:
    """``plan`` chunks ``interval`` seconds apart between ``head`` and ``end``."""
    chunks, interval = plan
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    if head:
        await response.write(head)
    for index in range(chunks):
        if index:
            await asyncio.sleep(interval)
        await response.write(chunk())
    await response.write(end)
    await response.write_eof()
    return response


def chat_chunk() -> bytes:
    return CHUNK_HEAD + str(time.monotonic_ns()).encode() + b"}\n\n"


def build_app(chunks: int, interval: float) -> web.Application:
    async def chat_completions(request: web.Request) -> web.StreamResponse:
        body = json.loads(await request.read())
        if not body.get("stream"):
            return web.Response(body=COMPLETION, content_type="application/json")
        return await stream_events(request, b"", chat_chunk, STREAM_END, (chunks, interval))

    async def messages(request: web.Request) -> web.StreamResponse:
        body = json.loads(await request.read())
        if not body.get("stream"):
            return web.Response(body=MESSAGE, content_type="application/json")
        return await stream_events(
            request, ANTHROPIC_HEAD, lambda: ANTHROPIC_DELTA, ANTHROPIC_END, (chunks, interval)
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/messages", messages)
    return app


async def serve(port: int, chunks: int, interval: float) -> None:
    runner = web.AppRunner(build_app(chunks, interval), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--chunks", type=int, default=500, help="content chunks per stream")
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between chunks")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.chunks, args.interval))
    return 0


if __name__ == "__main__":
    sys.exit(main())
