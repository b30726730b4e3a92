"""Shared machinery of every fake upstream: server lifecycle, script, recording.

A fake is a real aiohttp server on 127.0.0.1 (random port). Each API module subclasses
`FakeServer`, declares its routes, and renders behaviours in its wire format; this module
knows nothing about any API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn, Self, cast

from aiohttp import web
from multidict import CIMultiDictProxy, MultiDictProxy

from tests.fakes.behaviours import (
    BadEvent,
    Behaviour,
    Delay,
    Drop,
    Garbage,
    Hang,
    Huge,
    MidStreamError,
    Reply,
    Stall,
    Status,
    Stream,
    Trickle,
    Truncate,
)
from tests.fakes.faults import send_fault

Handler = Callable[[web.Request, "RecordedRequest"], Awaitable[web.StreamResponse]]

# A fixed, test-only key: the capture server (tests/clients/capture.py) signs and encrypts
# the reasoning of its answers with it, and the fakes a recorded corpus replays against
# are built with it, so a recorded second turn carries reasoning they accept.
CORPUS_SIGNING_KEY = b"cliproxy-client-corpus-signing-k"


def estimate_tokens(text: str) -> int:
    """Deterministic token estimate used by every fake: about four characters a token."""
    return (len(text) + 3) // 4


def split_text(text: str, chunks: int | None) -> list[str]:
    """Split text into streaming deltas: one per word, or `chunks` near-equal pieces."""
    if not text:
        return []
    if chunks is None:
        words = text.split(" ")
        return [w + " " for w in words[:-1]] + ([words[-1]] if words[-1] else [])
    chunks = max(1, min(chunks, len(text)))
    size, extra = divmod(len(text), chunks)
    pieces, start = [], 0
    for i in range(chunks):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def reply_text(reply: Reply, default: str) -> str:
    """The text a Reply produces: explicit text, generated words, or the API's default."""
    if reply.text is not None:
        return reply.text
    if reply.chunks is not None:
        return " ".join(f"w{i}" for i in range(reply.chunks))
    return default


def reply_deltas(reply: Reply, default: str) -> list[str]:
    """The content deltas a streamed Reply sends."""
    text = reply_text(reply, default)
    if reply.text is None and reply.chunks is not None:
        return [f"w{i}" if i == 0 else f" w{i}" for i in range(reply.chunks)]
    return split_text(text, reply.chunks)


@dataclass
class RecordedRequest:
    """One request as the fake received it, and what happened to it afterwards.

    Times are time.monotonic() values. `disconnected_at` is set when the client went away
    while the handler was still running (not when the fake itself dropped the connection).
    """

    method: str
    path: str
    query: MultiDictProxy[str]
    headers: CIMultiDictProxy[str]
    body: bytes
    json: Any
    arrived_at: float
    behaviour: Behaviour | None = None
    status: int | None = None
    finished_at: float | None = None
    disconnected_at: float | None = None
    dropped_by_fake: bool = False

    @property
    def disconnected(self) -> bool:
        return self.disconnected_at is not None


@dataclass
class _ScriptEntry:
    behaviour: Behaviour
    remaining: int | None
    path: str | None


class Script:
    """Queue of behaviours; each request that passes auth and validation pops one.

    Entries are consumed in order. `path` restricts an entry to requests whose path ends
    with it (others skip past it). When nothing matches, the `always` behaviour is used,
    else a default Reply().
    """

    def __init__(self) -> None:
        self._entries: list[_ScriptEntry] = []
        self._always: Behaviour | None = None

    def push(self, *behaviours: Behaviour, times: int = 1, path: str | None = None) -> None:
        """Queue behaviours, each used for the next `times` matching requests."""
        for behaviour in behaviours:
            self._entries.append(_ScriptEntry(behaviour, times, path))

    def always(self, behaviour: Behaviour | None) -> None:
        """Use this behaviour whenever the queue has nothing (None restores the default)."""
        self._always = behaviour

    def clear(self) -> None:
        self._entries.clear()
        self._always = None

    @property
    def pending(self) -> int:
        return len(self._entries)

    def next_for(self, path: str) -> Behaviour:
        for index, entry in enumerate(self._entries):
            if entry.path is not None and not path.endswith(entry.path):
                continue
            if entry.remaining is not None:
                entry.remaining -= 1
                if entry.remaining <= 0:
                    del self._entries[index]
            return entry.behaviour
        return self._always if self._always is not None else Reply()


class ApiError(Exception):
    """Raised by an API module to answer with an error response in its own shape."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class StreamEvent:
    """One encoded SSE/stream unit; `content` marks deltas that count as chunks."""

    data: bytes
    content: bool = False


@dataclass
class StreamPlan:
    """A full streamed answer plus how to end it early with an in-band error.

    `error_event(error, events_sent)` encodes the in-band error written after
    `events_sent` events (the Responses API numbers it as the next sequence_number).
    """

    events: list[StreamEvent]
    content_type: str = "text/event-stream"
    error_event: Callable[[MidStreamError, int], bytes] | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Renderer:
    """How one endpoint renders behaviours: built per request by the API module."""

    stream: bool
    body: Callable[[Reply], Any]
    plan: Callable[[Reply], StreamPlan]
    error: Callable[[Status], web.Response]
    garbage_stream: Callable[[str], bytes] = lambda text: f"data: {text}\n\n".encode()
    content_type: str = "text/event-stream"


class FakeServer:
    """Base of every fake: start/stop, routes, recording, disconnect tracking.

    Subclasses set `default_keys` and implement `routes()`, returning (method, path,
    handler) triples; handlers receive the request and its RecordedRequest.
    """

    default_keys: ClassVar[tuple[str, ...]] = ("sk-test",)

    def __init__(self, keys: Sequence[str] | None = None, *, record: bool = True) -> None:
        self.keys: list[str] = list(keys if keys is not None else self.default_keys)
        self.script = Script()
        self.requests: list[RecordedRequest] = []
        self.active_requests = 0
        self._record = record
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._handler_tasks: set[asyncio.Task[Any]] = set()
        self._changed: asyncio.Condition | None = None
        # Sent on every response, as real APIs send their rate-limit headers.
        self.response_headers: dict[str, str] = {}

    @property
    def key(self) -> str:
        """The first configured key, the one tests normally send."""
        return self.keys[0]

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("fake not started")
        return self._port

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port> with no trailing slash and no /v1."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def disconnect_count(self) -> int:
        return sum(1 for r in self.requests if r.disconnected)

    @property
    def last_request(self) -> RecordedRequest:
        if not self.requests:
            raise AssertionError("the fake has received no request")
        return self.requests[-1]

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        raise NotImplementedError

    async def start(self, port: int = 0) -> Self:
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for method, path, handler in self.routes():
            app.router.add_route(method, path, self._wrap(handler))

        async def add_response_headers(_: web.Request, response: web.StreamResponse) -> None:
            response.headers.update(self.response_headers)

        app.on_response_prepare.append(add_response_headers)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = cast(asyncio.Server, site._server)  # uvloop.Server: the same interface
        self._port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._closing = True
        for task in list(self._handler_tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def wait_for_requests(self, n: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least n requests have arrived."""
        await self._wait_until(lambda: len(self.requests) >= n, timeout)
        return self.requests

    async def wait_for_disconnect(self, n: int = 1, timeout: float = 5.0) -> None:
        """Wait until at least n clients went away while their request was running."""
        await self._wait_until(lambda: self.disconnect_count >= n, timeout)

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until no handler is running."""
        await self._wait_until(lambda: self.active_requests == 0, timeout)

    async def _wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        assert self._changed is not None, "fake not started"
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    def _wrap(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            task = asyncio.current_task()
            assert task is not None
            self._handler_tasks.add(task)
            record = RecordedRequest(
                method=request.method,
                path=request.path,
                query=request.query,
                headers=request.headers,
                body=b"",
                json=None,
                arrived_at=time.monotonic(),
            )
            self.active_requests += 1
            if self._record:
                self.requests.append(record)
            try:
                record.body = await request.read()
                try:
                    record.json = json.loads(record.body) if record.body else None
                except ValueError:
                    record.json = None
                await self._notify()
                try:
                    response = await handler(request, record)
                except ApiError as error:
                    response = error.response
                except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
                    response = self.malformed(exc)
                except ConnectionError:
                    # A write hit a closed socket; aiohttp cancels this task right after.
                    self._mark_disconnected(record)
                    await asyncio.sleep(5)
                    response = web.Response(status=499)
                record.status = response.status
                return response
            except asyncio.CancelledError:
                if not self._closing and not record.dropped_by_fake:
                    self._mark_disconnected(record)
                raise
            finally:
                record.finished_at = time.monotonic()
                self.active_requests -= 1
                self._handler_tasks.discard(task)
                self._schedule_notify()

        return wrapped

    def _mark_disconnected(self, record: RecordedRequest) -> None:
        if record.disconnected_at is None and not record.dropped_by_fake:
            record.disconnected_at = time.monotonic()

    def _schedule_notify(self) -> None:
        if not self._closing:
            asyncio.get_running_loop().create_task(self._notify())

    def malformed(self, exc: Exception) -> web.Response:
        """A request so oddly shaped that the fake's own checks trip over it (fuzzing finds
        these): the real API's schema validation answers 400, so the fake does too."""
        return web.json_response({"error": {"message": f"malformed request: {exc}"}}, status=400)

    # Helpers for API modules -------------------------------------------------------------

    def next_behaviour(self, record: RecordedRequest) -> Behaviour:
        behaviour = self.script.next_for(record.path)
        record.behaviour = behaviour
        return behaviour

    async def drop(
        self, request: web.Request, record: RecordedRequest, *, reset: bool = False
    ) -> NoReturn:
        """Abort the TCP connection without any further byte; aiohttp then cancels us.

        reset=True sends a TCP reset (SO_LINGER 0) instead of a FIN."""
        record.dropped_by_fake = True
        transport = request.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if reset and sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        await wait_forever()

    async def hang(self, request: web.Request, hang: Hang, content_type: str) -> NoReturn:
        if hang.after_headers:
            response = web.StreamResponse(headers={"Content-Type": content_type})
            await response.prepare(request)
        await wait_forever()

    async def send_stream(
        self,
        request: web.Request,
        record: RecordedRequest,
        plan: StreamPlan,
        behaviour: Behaviour,
        interval: float,
    ) -> web.StreamResponse:
        """Write a planned stream, applying Stall/Drop/MidStreamError at the chunk mark."""
        fault_at = None
        if isinstance(behaviour, Stall | Drop | MidStreamError | BadEvent | Truncate):
            fault_at = behaviour.after_chunks
        if isinstance(behaviour, Drop) and behaviour.after_chunks == 0:
            await self.drop(request, record, reset=behaviour.reset)
        response = web.StreamResponse(
            headers={
                "Content-Type": plan.content_type,
                "Cache-Control": "no-cache",
                **plan.extra_headers,
            }
        )
        await response.prepare(request)
        sent_content = 0
        sent_events = 0
        first_content = True
        for event in plan.events:
            at_end_of_content = not event.content and sent_content > 0
            if (
                fault_at is not None
                and sent_content >= fault_at
                and (event.content or at_end_of_content)
            ):
                if isinstance(behaviour, BadEvent):
                    await response.write(sse(behaviour.data, behaviour.event))
                    fault_at = None
                else:
                    await self._apply_fault(request, record, response, plan, behaviour, sent_events)
                    return response
            if event.content:
                if not first_content and interval > 0:
                    await asyncio.sleep(interval)
                first_content = False
                sent_content += 1
            await response.write(event.data)
            sent_events += 1
        if fault_at is not None:
            await self._apply_fault(request, record, response, plan, behaviour, sent_events)
            return response
        await response.write_eof()
        return response

    async def _apply_fault(
        self,
        request: web.Request,
        record: RecordedRequest,
        response: web.StreamResponse,
        plan: StreamPlan,
        behaviour: Behaviour,
        sent_events: int,
    ) -> None:
        if isinstance(behaviour, Stall):
            await wait_forever()
        if isinstance(behaviour, Drop):
            await self.drop(request, record, reset=behaviour.reset)
        if isinstance(behaviour, Truncate):
            await response.write_eof()
        if isinstance(behaviour, MidStreamError) and plan.error_event is not None:
            await response.write(plan.error_event(behaviour, sent_events))
            await response.write_eof()

    async def perform(
        self,
        request: web.Request,
        record: RecordedRequest,
        behaviour: Behaviour,
        render: Renderer,
    ) -> web.StreamResponse:
        """Carry out one behaviour for a validated request, in the API's wire format."""
        content_type = render.content_type if render.stream else "application/json"
        if isinstance(behaviour, Delay):
            await asyncio.sleep(behaviour.seconds)
            return await self.perform(request, record, behaviour.then, render)
        if isinstance(behaviour, Status):
            return render.error(behaviour)
        if isinstance(behaviour, Hang):
            await self.hang(request, behaviour, content_type)
        if isinstance(behaviour, Garbage | Huge | Trickle) or (
            isinstance(behaviour, BadEvent) and not render.stream
        ):
            return await send_fault(request, render, behaviour)
        reply = unwrap_reply(behaviour)
        if render.stream:
            return await self.send_stream(
                request, record, render.plan(reply), behaviour, reply.interval
            )
        if isinstance(behaviour, MidStreamError):
            return render.error(Status(behaviour.status, behaviour.message, behaviour.error_type))
        if isinstance(behaviour, Stall):
            await self.hang(request, Hang(after_headers=True), content_type)
        if isinstance(behaviour, Drop) and behaviour.after_chunks == 0:
            await self.drop(request, record, reset=behaviour.reset)
        deltas = reply.chunks if reply.chunks is not None else 1
        if reply.interval > 0 and deltas > 1:
            await asyncio.sleep(reply.interval * (deltas - 1))
        body = json.dumps(render.body(reply)).encode()
        if isinstance(behaviour, Drop):
            await self.send_partial_and_drop(request, record, body, content_type)
        return web.Response(status=200, body=body, content_type=content_type)

    async def respond_fixed(
        self,
        request: web.Request,
        record: RecordedRequest,
        payload: Any,
        error: Callable[[Status], web.Response],
    ) -> web.StreamResponse:
        """Next behaviour for an endpoint whose success answer is fixed (models, counts)."""
        render = Renderer(
            stream=False,
            body=lambda _reply: payload,
            plan=lambda _reply: StreamPlan([]),
            error=error,
        )
        return await self.perform(request, record, self.next_behaviour(record), render)

    async def send_partial_and_drop(
        self, request: web.Request, record: RecordedRequest, body: bytes, content_type: str
    ) -> web.StreamResponse:
        """Non-streaming Drop: headers with the full Content-Length, half the body, close."""
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        behaviour = record.behaviour
        await self.drop(request, record, reset=isinstance(behaviour, Drop) and behaviour.reset)


async def wait_forever() -> NoReturn:
    """Block until cancelled (client disconnect or fake shutdown)."""
    await asyncio.Event().wait()
    raise AssertionError("an Event nobody sets was set")


def unwrap_reply(behaviour: Behaviour) -> Reply:
    """The Reply a content-bearing behaviour streams (Stall/Drop/MidStreamError wrap one)."""
    if isinstance(behaviour, Reply):
        return behaviour
    if isinstance(behaviour, Stall | Drop | MidStreamError | BadEvent | Truncate | Trickle):
        return behaviour.reply
    return Stream()


def sse(data: Any, event: str | None = None) -> bytes:
    """Encode one SSE event; dicts are JSON-encoded compactly."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        content_type="application/json",
        headers=headers,
    )


def run_standalone(
    fake_factory: Callable[[list[str] | None], FakeServer], argv: Sequence[str] | None = None
) -> None:
    """Entry point of `python -m tests.fakes.<api>`: serve until SIGTERM/SIGINT.

    --mode echo (default answers), instant (always a tiny fixed reply, for throughput),
    stream (always a stream of --chunks deltas --interval apart).
    """
    parser = argparse.ArgumentParser(description="Run a fake upstream on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--print-port", action="store_true", help="print the bound port on stdout once listening"
    )
    parser.add_argument("--mode", choices=("echo", "instant", "stream"), default="echo")
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.01)
    parser.add_argument(
        "--key",
        action="append",
        dest="keys",
        help="accepted key (repeatable); default: the fake's test keys",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="keep every request in memory (off: benchmarks run long)",
    )
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = fake_factory(args.keys)
        fake._record = args.record
        if args.mode == "instant":
            fake.script.always(Reply(text="ok"))
        elif args.mode == "stream":
            fake.script.always(Stream(chunks=args.chunks, interval=args.interval))
        await fake.start(args.port)
        if args.print_port:
            print(fake.port, flush=True)
        print(
            f"event=fake_listening class={type(fake).__name__} port={fake.port} mode={args.mode}",
            file=sys.stderr,
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await fake.close()

    asyncio.run(serve())
