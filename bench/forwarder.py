"""The baseline: the least an aiohttp proxy can do. ``python -m bench.forwarder UPSTREAM``.

POST /v1/chat/completions is sent on to UPSTREAM with one shared ClientSession and the
answer streamed back as it arrives. Prints the bound port on stdout.
"""

import asyncio
import signal
import sys

import aiohttp
from aiohttp import web


async def main(upstream: str, port: int = 0) -> None:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512))

    async def forward(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}
        async with session.post(upstream, data=await request.read(), headers=headers) as reply:
            response = web.StreamResponse(status=reply.status)
            response.content_type = reply.content_type
            await response.prepare(request)
            async for chunk in reply.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", forward)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await session.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
