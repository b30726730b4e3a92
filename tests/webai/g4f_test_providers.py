"""Offline g4f providers that drive the WebAI service in tests through the real g4f client.

Referenced from config as "tests.webai.g4f_test_providers:<ClassName>". Providers that
can be interrupted record what they observed in `EVENTS` (a list of "<Class>:<event>").
"""

from __future__ import annotations

import asyncio
from typing import Any

from g4f.providers.base_provider import AsyncGeneratorProvider, ProviderModelMixin

EVENTS: list[str] = []
SLOW_CHUNK_DELAY = 0.05
SLOW_CHUNK_COUNT = 400


class _TestProvider(AsyncGeneratorProvider, ProviderModelMixin):
    working = True
    supports_stream = True
    default_model = "test-model"
    models = ["test-model"]


class FixedText(_TestProvider):
    """Answers "Hello, world" in three chunks."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        for piece in ("Hello", ", ", "world"):
            yield piece


class EchoLastMessage(_TestProvider):
    """Answers with the message count and the last message's content, as it received them."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        yield f"{len(messages)}:{messages[-1]['content']}"


class MutateThenRaise(_TestProvider):
    """Empties the messages it was given (as g4f itself may), then fails."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        messages.clear()
        raise RuntimeError("mutated and failed")
        yield ""


class Broken(_TestProvider):
    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        raise RuntimeError("broken provider exploded")
        yield ""


class AlsoBroken(_TestProvider):
    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        raise ValueError("second provider refused")
        yield ""


class Silent(_TestProvider):
    """Finishes without producing any text."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        for _ in ():
            yield ""


class _Recording(_TestProvider):
    @classmethod
    def record(cls, event: str) -> None:
        EVENTS.append(f"{cls.__name__}:{event}")


class Hang(_Recording):
    """Never answers; records how it was stopped."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        cls.record("started")
        try:
            await asyncio.sleep(3600)
            yield "never"
        except asyncio.CancelledError:
            cls.record("cancelled")
            raise
        except GeneratorExit:
            cls.record("closed")
            raise


class SlowStream(_Recording):
    """Streams numbered chunks slowly; records whether it finished or how it was stopped."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        cls.record("started")
        try:
            for index in range(SLOW_CHUNK_COUNT):
                yield f"chunk{index} "
                await asyncio.sleep(SLOW_CHUNK_DELAY)
        except asyncio.CancelledError:
            cls.record("cancelled")
            raise
        except GeneratorExit:
            cls.record("closed")
            raise
        cls.record("finished")


class FailMidStream(_TestProvider):
    """Sends some text, then fails."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        yield "partial answer"
        await asyncio.sleep(0)
        raise RuntimeError("lost the upstream connection")


class StallMidStream(_Recording):
    """Sends some text, then stalls forever."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        yield "partial answer"
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cls.record("cancelled")
            raise
        yield "never"


LEAKED_COOKIE_VALUE = "psid-value-that-must-not-leak-0123"


class LeakCookie(_TestProvider):
    """Fails with an error message that quotes a cookie value."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        raise RuntimeError(f"upstream rejected cookie {LEAKED_COOKIE_VALUE}")
        yield ""


class ProxyEcho(_TestProvider):
    """Answers with the proxy g4f handed it ("none" without one)."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        yield proxy or "none"


class ProxyFailure(_TestProvider):
    """Fails the way a provider's HTTP library does when the proxy is down: naming it."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, Any]], proxy: str | None = None, **kwargs: Any
    ):
        raise ConnectionError(f"Cannot connect to proxy {proxy}")
        yield ""
