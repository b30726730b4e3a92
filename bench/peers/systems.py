"""Every row of the peer table: what it measures and how its server is started.

A ``System`` names the row and the request path it measures; its ``start`` returns the
``Target`` the load generator hits. The bench's own processes (upstream, forwarder, one
cliproxy router shared by the cliproxy rows) start once per run through ``Context``; the
peers are installed and started by ``bench.peers.launch``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.cost import CHAT, MESSAGES, anthropic_body, chat_body
from bench.processes import BENCH_ALIAS, BENCH_MODEL, TRANSLATED_MODEL, Child, Processes


@dataclass(frozen=True)
class Target:
    """A running server and the request the load generator sends it."""

    child: Child
    url_path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    """What starters share: the processes, the upstream, folders, the cliproxy router."""

    processes: Processes
    upstream: Child
    workdir: Path
    scratch: Path
    say: Callable[[str], None]
    _routers: dict[int, Child] = field(default_factory=dict)
    # Servers other starters share, by a key of their choosing (bench.peers.before).
    extra: dict[str, Child] = field(default_factory=dict)

    async def router(self, workers: int = 1) -> Child:
        """The cliproxy router with ``workers`` processes (one per count, shared by rows)."""
        if workers not in self._routers:
            self._routers[workers] = await self.processes.start_router(
                self.upstream, log_level="info", workers=workers
            )
        return self._routers[workers]


Starter = Callable[[Context], Awaitable[Target]]


@dataclass(frozen=True)
class System:
    key: str
    label: str
    path: str
    start: Starter


def _not_streamed(body: bytes) -> bytes:
    """``body`` with ``"stream": false`` spelled out, for every system alike: 9router takes a
    request without it for a stream (and answers the upstream's JSON as text/event-stream);
    the others read it as the default it is."""
    return json.dumps({**json.loads(body), "stream": False}).encode()


def chat_request(model: str) -> bytes:
    return _not_streamed(chat_body(model))


def messages_request(model: str) -> bytes:
    return _not_streamed(anthropic_body(model))


CHAT_TO_CHAT = "Chat client → Chat upstream"
ANTHROPIC_TO_CHAT = "Anthropic client → Chat upstream (translated)"


async def _upstream(ctx: Context) -> Target:
    return Target(ctx.upstream, CHAT, chat_request(BENCH_MODEL))


async def _forwarder(ctx: Context) -> Target:
    return Target(
        await ctx.processes.start_forwarder(ctx.upstream), CHAT, chat_request(BENCH_MODEL)
    )


def _cliproxy(path: str, body: bytes, workers: int = 1) -> Starter:
    async def start(ctx: Context) -> Target:
        return Target(await ctx.router(workers), path, body)

    return start


BASELINES = [
    System("upstream", "upstream hit directly", "Chat, no proxy", _upstream),
    System("forwarder", "20-line aiohttp forwarder", CHAT_TO_CHAT, _forwarder),
    System(
        "cliproxy_passthrough",
        "cliproxy passthrough (1 worker)",
        CHAT_TO_CHAT,
        _cliproxy(CHAT, chat_request(BENCH_MODEL)),
    ),
    System(
        "cliproxy_workers",
        "cliproxy passthrough, workers: 2",
        CHAT_TO_CHAT + " (two router processes on the port)",
        _cliproxy(CHAT, chat_request(BENCH_MODEL), workers=2),
    ),
    System(
        "cliproxy_alias",
        "cliproxy Chat → Chat with an alias",
        CHAT_TO_CHAT + " (alias spliced into the client's bytes)",
        _cliproxy(CHAT, chat_request(BENCH_ALIAS)),
    ),
    System(
        "cliproxy_chat_to_anthropic",
        "cliproxy Chat client → Anthropic upstream",
        "Chat client → Anthropic upstream (translated)",
        _cliproxy(CHAT, chat_request(TRANSLATED_MODEL)),
    ),
    System(
        "cliproxy_anthropic_to_chat",
        "cliproxy Anthropic client → Chat upstream",
        ANTHROPIC_TO_CHAT + ": claude-code-router's path",
        _cliproxy(MESSAGES, messages_request(BENCH_MODEL)),
    ),
]
