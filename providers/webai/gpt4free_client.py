"""Chat generation through g4f's AsyncClient over an explicit, ordered list of providers.

Why our own loop instead of g4f's IterListProvider/RetryProvider: those swallow each
provider's exception into one combined error, shuffle or skip providers by their own
rules, and cannot tell us which provider answered in a form we can put on /health.
Looping ourselves (one `AsyncClient.chat.completions.create(provider=...)` call per
provider, in configured order) gives a per-provider reason for the 502 body and for
/health, a fresh copy of the messages per attempt (g4f mutates what it is given),
one deadline for the whole request, and a clean place to close the generator.

Timeouts: a non-streaming request must finish within `timeout` seconds, all attempts
included. A streaming request must produce its first text within `timeout` seconds (all
attempts included); after that, each further gap between chunks may last at most
`timeout` seconds. A stream falls back to the next provider only before its first text;
once text has been sent to the client, a failure ends the stream.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import g4f.debug
import g4f.Provider
from g4f.client import AsyncClient
from g4f.providers.types import BaseProvider

from providers.webai.errors import (
    AllProvidersFailed,
    GenerationTimeout,
    ProviderAttempt,
    Redactor,
    StreamInterrupted,
    WebAIConfigError,
    exception_reason,
)
from providers.webai.outcomes import ProviderOutcomes

# g4f starts a PyPI/GitHub version check thread on first model resolution, and its debug
# logging prints to stdout. Neither belongs in a service that must not reach the network.
g4f.debug.version_check = False
g4f.debug.logging = False

EMPTY_RESPONSE = "empty response"

Messages = list[dict[str, Any]]


@dataclass(frozen=True)
class ResolvedProvider:
    name: str  # as configured, without the module part: shown on /health and in errors
    provider: type[BaseProvider]


def resolve_provider(spec: str) -> ResolvedProvider:
    """Turn "Gemini" (an attribute of g4f.Provider) or "package.module:Class" into a class."""
    module_name, _, attribute = spec.rpartition(":")
    if module_name:
        try:
            candidate = getattr(importlib.import_module(module_name), attribute, None)
        except ImportError as exc:
            raise WebAIConfigError(f"cannot import provider module {module_name!r}") from exc
    else:
        candidate = getattr(g4f.Provider, attribute, None)
    if not (isinstance(candidate, type) and issubclass(candidate, BaseProvider)):
        raise WebAIConfigError(f"unknown g4f provider {spec!r}")
    return ResolvedProvider(name=attribute, provider=candidate)


def resolve_providers(specs: Iterable[str]) -> tuple[ResolvedProvider, ...]:
    resolved = tuple(resolve_provider(spec) for spec in specs)
    if not resolved:
        raise WebAIConfigError("webai.providers is empty")
    names = [item.name for item in resolved]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise WebAIConfigError(f"webai.providers lists a provider twice: {', '.join(duplicates)}")
    return resolved


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str
    provider: str
    usage: dict[str, int]


@dataclass(frozen=True)
class StreamDelta:
    text: str
    finish_reason: str | None


class ProviderStream:
    """A provider stream that has already produced its first text."""

    def __init__(
        self,
        provider: str,
        first: StreamDelta,
        chunks: AsyncIterator[Any],
        idle_timeout: float,
        outcomes: ProviderOutcomes,
        redact: Redactor,
    ) -> None:
        self.provider = provider
        self.first = first
        self._chunks = chunks
        self._idle_timeout = idle_timeout
        self._outcomes = outcomes
        self._redact = redact
        self._finished = first.finish_reason is not None
        if self._finished:
            outcomes.record_ok(provider)

    async def next_delta(self) -> StreamDelta | None:
        """The next piece of text (or the finish), None once the stream has ended."""
        while not self._finished:
            try:
                async with asyncio.timeout(self._idle_timeout) as scope:
                    chunk = await anext(self._chunks)
            except StopAsyncIteration:
                self._mark_finished()
                return None
            except TimeoutError as exc:
                if scope.expired():
                    raise self._interrupted(
                        f"no data for {self._idle_timeout:g}s", timed_out=True
                    ) from None
                raise self._interrupted(exception_reason(exc, self._redact)) from None
            except Exception as exc:
                raise self._interrupted(exception_reason(exc, self._redact)) from None
            delta = delta_of_chunk(chunk)
            if delta is None:
                continue
            if delta.finish_reason is not None:
                self._mark_finished()
            return delta
        return None

    async def aclose(self) -> None:
        """Close the g4f generator chain; this reaches the provider's generator too."""
        await close_quietly(self._chunks)

    def _mark_finished(self) -> None:
        self._finished = True
        self._outcomes.record_ok(self.provider)

    def _interrupted(self, reason: str, *, timed_out: bool = False) -> StreamInterrupted:
        self._finished = True
        self._outcomes.record_error(self.provider, reason)
        return StreamInterrupted(ProviderAttempt(self.provider, reason), timed_out=timed_out)


class G4FBackend:
    def __init__(
        self,
        providers: Sequence[ResolvedProvider],
        timeout: float,
        outcomes: ProviderOutcomes,
        redact: Redactor,
        *,
        proxy: str | None = None,
    ) -> None:
        """``proxy``: the URL every g4f provider goes out through (None: direct)."""
        self._providers = tuple(providers)
        self._timeout = timeout
        self._outcomes = outcomes
        self._redact = redact
        self._client = AsyncClient(proxies=proxy)

    async def complete(self, model: str, messages: Messages) -> Completion:
        deadline = asyncio.get_running_loop().time() + self._timeout
        attempts: list[ProviderAttempt] = []
        for item in self._providers:
            try:
                async with asyncio.timeout_at(deadline) as scope:
                    result = await self._client.chat.completions.create(
                        model=model, messages=copy.deepcopy(messages), provider=item.provider
                    )
            except TimeoutError as exc:
                if scope.expired():
                    raise self._timed_out(item, attempts) from None
                self._failed(item, exception_reason(exc, self._redact), attempts)
                continue
            except Exception as exc:
                self._failed(item, exception_reason(exc, self._redact), attempts)
                continue
            choice = result.choices[0]
            text = choice.message.content
            if not isinstance(text, str) or not text:
                self._failed(item, EMPTY_RESPONSE, attempts)
                continue
            self._outcomes.record_ok(item.name)
            return Completion(
                text=text,
                finish_reason=choice.finish_reason or "stop",
                provider=item.name,
                usage=usage_of(result),
            )
        raise AllProvidersFailed(attempts)

    async def open_stream(self, model: str, messages: Messages) -> ProviderStream:
        """Try providers in order until one produces text; the caller must aclose() it."""
        deadline = asyncio.get_running_loop().time() + self._timeout
        attempts: list[ProviderAttempt] = []
        for item in self._providers:
            chunks = self._client.chat.completions.create(
                model=model, messages=copy.deepcopy(messages), provider=item.provider, stream=True
            )
            try:
                async with asyncio.timeout_at(deadline) as scope:
                    first = await first_text(chunks)
            except TimeoutError as exc:
                await close_quietly(chunks)
                if scope.expired():
                    raise self._timed_out(item, attempts) from None
                self._failed(item, exception_reason(exc, self._redact), attempts)
                continue
            except Exception as exc:
                await close_quietly(chunks)
                self._failed(item, exception_reason(exc, self._redact), attempts)
                continue
            except BaseException:
                await close_quietly(chunks)
                raise
            if first is None:
                await close_quietly(chunks)
                self._failed(item, EMPTY_RESPONSE, attempts)
                continue
            return ProviderStream(
                item.name, first, chunks, self._timeout, self._outcomes, self._redact
            )
        raise AllProvidersFailed(attempts)

    def _failed(self, item: ResolvedProvider, reason: str, attempts: list[ProviderAttempt]) -> None:
        attempts.append(ProviderAttempt(item.name, reason))
        self._outcomes.record_error(item.name, reason)

    def _timed_out(
        self, item: ResolvedProvider, attempts: list[ProviderAttempt]
    ) -> GenerationTimeout:
        self._failed(item, f"timed out after {self._timeout:g}s", attempts)
        return GenerationTimeout(self._timeout, attempts)


async def first_text(chunks: AsyncIterator[Any]) -> StreamDelta | None:
    """Read until the first chunk carrying text; None if the stream ends without any."""
    async for chunk in chunks:
        delta = delta_of_chunk(chunk)
        if delta is None:
            continue
        if delta.text:
            return delta
        if delta.finish_reason is not None:
            return None
    return None


def delta_of_chunk(chunk: Any) -> StreamDelta | None:
    """Text and finish reason of a g4f ChatCompletionChunk; None for chunks with neither."""
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return None
    choice = choices[0]
    content = getattr(getattr(choice, "delta", None), "content", None)
    text = content if isinstance(content, str) else ""
    finish_reason = getattr(choice, "finish_reason", None)
    if not text and finish_reason is None:
        return None
    return StreamDelta(text=text, finish_reason=finish_reason)


def usage_of(result: Any) -> dict[str, int]:
    usage = getattr(result, "usage", None)
    counts = {
        key: getattr(usage, key, 0)
        for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    return {key: value if isinstance(value, int) else 0 for key, value in counts.items()}


async def close_quietly(chunks: AsyncIterator[Any]) -> None:
    close = getattr(chunks, "aclose", None)
    if close is None:
        return
    try:
        await close()
    except Exception:
        return
