"""The success path stays cheap and exact: an alias changes only the model's bytes, and
no error object is built for a request that succeeds."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from router.errors import AttemptFailed, ProxyError
from tests.conftest import StartRouter
from tests.router.test_client_api import one_provider


async def _post(url: str, data: bytes) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url + "/v1/chat/completions", data=data, headers={"Content-Type": "application/json"}
        ) as response:
            return response.status, await response.read()


async def test_alias_passthrough_sends_the_clients_bytes_with_only_the_model_changed(
    router_factory: StartRouter, openai_fake
) -> None:
    router = await router_factory(one_provider(openai_fake))
    raw = (
        b'{\n  "messages": [{"role": "user", "content": "caf\\u00e9 \\"model\\": x"}],\n'
        b'  "model" : "fast",  "temperature": 1.50, "metadata": {"n": 10000000000000000000001}\n}'
    )
    status, _ = await _post(router.url, raw)
    assert status == 200
    assert openai_fake.last_request.body == raw.replace(b'"fast"', b'"gpt-4o-mini"')


async def test_a_successful_request_builds_no_error_object(
    router_factory: StartRouter, openai_fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    router = await router_factory(one_provider(openai_fake))
    built: list[str] = []
    for cls in (ProxyError, AttemptFailed):
        original = cls.__init__

        def counting(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> None:
            built.append(type(self).__name__)
            _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counting)
    body = b'{"model": "fast", "messages": [{"role": "user", "content": "hi"}]}'
    for data in (body, body.replace(b"}]}", b'}], "stream": true}')):
        status, _ = await _post(router.url, data)
        assert status == 200
    assert built == []
