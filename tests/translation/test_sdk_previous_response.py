"""Responses `previous_response_id` with the official openai SDK: cliproxy keeps no
conversation store, so it works only in passthrough to a Responses upstream (which keeps
the conversation itself); every other upstream kind answers a 400 that says so, without
calling the upstream."""

from __future__ import annotations

import openai
import pytest

from tests.fakes.behaviours import Reply
from tests.translation.conftest import KINDS, Mesh, client_model

LABELS = {
    "openai": "OpenAI Chat Completions",
    "anthropic": "Anthropic Messages",
    "gemini": "Gemini generateContent",
}


async def test_passthrough_to_a_responses_upstream_continues_the_stored_conversation(
    mesh: Mesh, openai_sdk: openai.AsyncOpenAI
) -> None:
    kind = "openai-responses"
    mesh.fake(kind).script.push(Reply(text="Paris is sunny."), Reply(text="Still sunny."))
    first = await openai_sdk.responses.create(model=client_model(kind), input="Paris weather?")
    second = await openai_sdk.responses.create(
        model=client_model(kind), input="And tomorrow?", previous_response_id=first.id
    )
    assert second.output_text == "Still sunny."
    assert mesh.upstream_requests(kind)[-1]["previous_response_id"] == first.id


async def test_unknown_previous_response_is_the_upstreams_own_error(
    mesh: Mesh, openai_sdk: openai.AsyncOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await openai_sdk.responses.create(
            model=client_model("openai-responses"), input="hi", previous_response_id="resp_nope"
        )
    assert "resp_nope" in str(info.value)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "openai-responses"])
@pytest.mark.parametrize("stream", [False, True])
async def test_any_other_upstream_is_a_clear_400(
    mesh: Mesh, kind: str, stream: bool, openai_sdk: openai.AsyncOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await openai_sdk.responses.create(
            model=client_model(kind),
            input="And tomorrow?",
            previous_response_id="resp_123",
            stream=stream,
        )
    assert info.value.status_code == 400
    message = info.value.message
    assert "previous_response_id" in message
    assert LABELS[kind] in message
    assert "no conversation store" in message
    assert mesh.upstream_requests(kind) == []
