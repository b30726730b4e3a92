"""What the fault tests share: a router in front of one fake per format, a client request
in each format, and checks that an answer is a clean error in the client's own format."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from router.formats import SSEParser
from router.server import RunningRouter
from tests.conftest import provider
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.base import FakeServer
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake

# The client formats, by the provider kind that speaks them upstream.
KINDS = ("openai", "openai-responses", "anthropic", "gemini")
MODEL = {kind: f"m-{kind}" for kind in KINDS}


@dataclass
class Fakes:
    openai: OpenAIFake
    anthropic: AnthropicFake
    gemini: GeminiFake

    def of(self, kind: str) -> FakeServer:
        if kind.startswith("openai"):
            return self.openai
        return self.anthropic if kind == "anthropic" else self.gemini

    def all(self) -> tuple[FakeServer, ...]:
        return (self.openai, self.anthropic, self.gemini)


def fault_config(fakes: Fakes, **extra: Any) -> dict[str, Any]:
    """One provider per upstream kind, serving model ``m-<kind>``; no retries, so every
    fault reaches the client."""
    bases = {
        "openai": fakes.openai.base_url + "/v1",
        "openai-responses": fakes.openai.base_url + "/v1",
        "anthropic": fakes.anthropic.base_url,
        "gemini": fakes.gemini.base_url,
    }
    routing = {"max-retries": 0, **extra.pop("routing", {})}
    return {
        "routing": routing,
        "providers": [
            provider(
                f"p-{kind}",
                bases[kind],
                [fakes.of(kind).key],
                [MODEL[kind]],
                kind=kind,
            )
            for kind in KINDS
        ],
        **extra,
    }


def request_for(client: str, model: str, stream: bool) -> tuple[str, dict[str, Any]]:
    """Path and body of a minimal generation request in the ``client`` format."""
    if client == "openai":
        body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        return "/v1/chat/completions", {**body, "stream": stream}
    if client == "openai-responses":
        return "/v1/responses", {"model": model, "input": "hi", "stream": stream}
    if client == "anthropic":
        body = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
        return "/v1/messages", {**body, "stream": stream}
    action = "streamGenerateContent?alt=sse" if stream else "generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    return f"/v1beta/models/{model}:{action}", body


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def events(self) -> list[tuple[str | None, Any]]:
        parser = SSEParser()
        parsed = parser.feed(self.body) + parser.close()
        out: list[tuple[str | None, Any]] = []
        for event in parsed:
            try:
                out.append((event.event, json.loads(event.data)))
            except ValueError:
                out.append((event.event, event.data))
        return out


async def ask(
    router: RunningRouter, client: str, model: str, stream: bool, timeout: float = 10.0
) -> Answer:
    """One request; raises TimeoutError when the answer does not end within ``timeout``."""
    path, body = request_for(client, model, stream)
    async with aiohttp.ClientSession() as http:
        async with asyncio.timeout(timeout):
            async with http.post(router.url + path, json=body) as response:
                data = await response.read()
                return Answer(response.status, response.headers.get("Content-Type", ""), data)


def is_error_in_format(client: str, payload: Any) -> bool:
    """``payload`` is an error body (or stream error event data) in the client's shape."""
    if not isinstance(payload, dict):
        return False
    if client == "anthropic":
        error = payload.get("error")
        return payload.get("type") == "error" and isinstance(error, dict) and "message" in error
    if client == "openai-responses" and payload.get("type") in ("error", "response.failed"):
        return True
    error = payload.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return False
    if client == "gemini":
        return isinstance(error.get("code"), int) and isinstance(error.get("status"), str)
    return "type" in error


def clean_error(client: str, answer: Answer) -> str | None:
    """Why ``answer`` is not a clean error in the client's format, or None when it is: a
    JSON error with a 4xx/5xx status, or a 200 stream whose last event is an error."""
    if answer.status >= 400:
        try:
            payload = json.loads(answer.body)
        except ValueError:
            return f"status {answer.status} with a body that is not JSON"
        if not is_error_in_format(client, payload):
            return f"status {answer.status} body is not a {client} error: {answer.body[:200]!r}"
        return None
    if b"HTTP/1.1" in answer.body:
        return "a second HTTP response inside the body"
    events = answer.events()
    if not events:
        return f"status {answer.status} with no error: {answer.body[:200]!r}"
    name, payload = events[-1]
    if client == "openai-responses" and name == "response.failed":
        return None
    if is_error_in_format(client, payload):
        return None
    return f"status {answer.status} does not end with an error: {answer.body[-300:]!r}"


async def settle(router: RunningRouter, fakes: Fakes, timeout: float = 5.0) -> str | None:
    """Wait until nothing is in flight anywhere; what is still busy after ``timeout``."""
    runtime = router.state.runtime
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        busy = [
            f"{u.name}: {u.active_requests()} open"
            for u in runtime.upstreams
            if u.active_requests()
        ]
        busy += [
            f"{type(f).__name__}: {f.active_requests} handlers"
            for f in fakes.all()
            if f.active_requests
        ]
        if runtime._in_flight:
            busy.append(f"router: {runtime._in_flight} in flight")
        if not busy:
            return None
        if asyncio.get_running_loop().time() > deadline:
            return "; ".join(busy)
        await asyncio.sleep(0.02)
