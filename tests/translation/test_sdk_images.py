"""Images from each official SDK to every upstream kind: base64 and data URLs arrive in
the upstream's own image shape with the same bytes; URLs reach the upstreams that accept
them and are a clear 400 for Gemini (cliproxy never fetches them)."""

from __future__ import annotations

import base64

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.fakes.behaviours import Reply
from tests.translation.conftest import Mesh, client_model, upstream_images

# A 1x1 PNG; the fakes check the data is valid base64 of an allowed image type.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()
DATA_URL = f"data:image/png;base64,{PNG_B64}"
IMAGE_URL = "https://images.example.test/dot.png"
ANSWER = "A single red dot."


async def test_openai_chat_data_url(mesh: Mesh, kind: str, openai_sdk: openai.AsyncOpenAI) -> None:
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    reply = await openai_sdk.chat.completions.create(
        model=client_model(kind),
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": DATA_URL, "detail": "low"}},
                ],
            }
        ],
    )
    assert reply.choices[0].message.content == ANSWER
    sent = mesh.upstream_requests(kind)[-1]
    assert upstream_images(kind, sent) == [("image/png", PNG_B64)]


async def test_openai_responses_data_url(
    mesh: Mesh, kind: str, openai_sdk: openai.AsyncOpenAI
) -> None:
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    response = await openai_sdk.responses.create(
        model=client_model(kind),
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": DATA_URL, "detail": "auto"},
                ],
            }
        ],
    )
    assert response.output_text == ANSWER
    assert upstream_images(kind, mesh.upstream_requests(kind)[-1]) == [("image/png", PNG_B64)]


async def test_anthropic_base64(
    mesh: Mesh, kind: str, anthropic_sdk: anthropic.AsyncAnthropic
) -> None:
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    message = await anthropic_sdk.messages.create(
        model=client_model(kind),
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64},
                        "cache_control": {"type": "ephemeral"},
                    },
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    assert message.content[0].text == ANSWER  # type: ignore[union-attr]
    assert upstream_images(kind, mesh.upstream_requests(kind)[-1]) == [("image/png", PNG_B64)]


async def test_genai_inline_bytes(
    mesh: Mesh, kind: str, genai_sdk: genai.client.AsyncClient
) -> None:
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    response = await genai_sdk.models.generate_content(
        model=client_model(kind),
        contents=[types.Part.from_bytes(data=PNG, mime_type="image/png"), "What is this?"],
    )
    assert response.text == ANSWER
    assert upstream_images(kind, mesh.upstream_requests(kind)[-1]) == [("image/png", PNG_B64)]


async def test_image_url_reaches_upstreams_that_take_urls(
    mesh: Mesh, kind: str, openai_sdk: openai.AsyncOpenAI
) -> None:
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": IMAGE_URL}},
            ],
        }
    ]
    if kind == "gemini":
        with pytest.raises(openai.BadRequestError) as info:
            await openai_sdk.chat.completions.create(model=client_model(kind), messages=messages)
        assert "image URLs cannot be sent to Gemini" in str(info.value)
        assert mesh.upstream_requests(kind) == []
        return
    reply = await openai_sdk.chat.completions.create(model=client_model(kind), messages=messages)
    assert reply.choices[0].message.content == ANSWER
    assert upstream_images(kind, mesh.upstream_requests(kind)[-1]) == [("url", IMAGE_URL)]
