"""How a fake sends the fault behaviours that need no stream plan of their own: raw or
framed garbage, a huge answer generated lazily, a trickle, a malformed whole answer."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from aiohttp import web

from tests.fakes.behaviours import BadEvent, Garbage, Huge, Reply, Trickle

if TYPE_CHECKING:
    from tests.fakes.base import Renderer

_MIB = 1024 * 1024
_MARK = "HUGE-TEXT-MARK"


async def send_fault(
    request: web.Request, render: Renderer, behaviour: Garbage | Huge | Trickle | BadEvent
) -> web.StreamResponse:
    content_type = render.content_type if render.stream else "application/json"
    if isinstance(behaviour, Huge):
        return await send_huge(request, render, behaviour, content_type)
    if isinstance(behaviour, Trickle):
        return await send_trickle(request, render, behaviour, content_type)
    if isinstance(behaviour, BadEvent):
        body = json.dumps(behaviour.data).encode()
        return web.Response(status=200, body=body, content_type=content_type)
    if not render.stream:
        return web.Response(status=200, text=behaviour.body, content_type=content_type)
    body = render.garbage_stream(behaviour.body) if behaviour.framed else behaviour.body.encode()
    return await send_bytes(request, content_type, body)


async def send_bytes(
    request: web.Request, content_type: str, *pieces: bytes, interval: float = 0.0
) -> web.StreamResponse:
    """A 200 of `pieces` written one after the other (`interval` seconds apart)."""
    response = web.StreamResponse(headers={"Content-Type": content_type})
    await response.prepare(request)
    for index, piece in enumerate(pieces):
        if index and interval > 0:
            await asyncio.sleep(interval)
        await response.write(piece)
    await response.write_eof()
    return response


async def send_huge(
    request: web.Request, render: Renderer, huge: Huge, content_type: str
) -> web.StreamResponse:
    """A valid answer around `huge.megabytes` MiB of text, written 1 MiB at a time."""
    if render.stream:
        template = b"".join(e.data for e in render.plan(Reply(text=_MARK, chunks=1)).events)
    else:
        template = json.dumps(render.body(Reply(text=_MARK))).encode()
    head, tail = template.split(_MARK.encode(), 1)
    response = web.StreamResponse(headers={"Content-Type": content_type})
    await response.prepare(request)
    await response.write(head)
    piece = b"a" * _MIB
    for _ in range(int(huge.megabytes)):
        await response.write(piece)
    await response.write(tail)
    await response.write_eof()
    return response


async def send_trickle(
    request: web.Request, render: Renderer, trickle: Trickle, content_type: str
) -> web.StreamResponse:
    if render.stream:
        data = b"".join(e.data for e in render.plan(trickle.reply).events)
    else:
        data = json.dumps(render.body(trickle.reply)).encode()
    pieces = [data[i : i + 1] for i in range(len(data))]
    return await send_bytes(request, content_type, *pieces, interval=trickle.interval)
