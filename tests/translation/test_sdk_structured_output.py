"""Structured output from each official SDK's own helper to every upstream kind: the
schema arrives in the upstream's own field (Chat response_format, Responses text.format,
Gemini responseMimeType + responseSchema/responseJsonSchema, Anthropic
output_config.format) and the SDK parses the JSON answer into its model."""

from __future__ import annotations

import anthropic
import openai
import pydantic
import pytest
from google import genai
from google.genai import types

from tests.fakes.behaviours import Reply
from tests.translation.conftest import (
    SYSTEM_PROMPT,
    Mesh,
    client_model,
    schema_shape,
    upstream_output_schema,
    upstream_system,
)

QUESTION = "Weather in Paris, as JSON."
ANSWER = '{"city": "Paris", "celsius": 18}'


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


SHAPE = (["celsius", "city"], ["celsius", "city"], ["integer", "string"])


def check_schema(mesh: Mesh, kind: str) -> None:
    schema = upstream_output_schema(kind, mesh.upstream_requests(kind)[-1])
    assert isinstance(schema, dict)
    assert schema_shape(schema) == SHAPE


async def test_openai_chat_parse(mesh: Mesh, kind: str, openai_sdk: openai.AsyncOpenAI) -> None:
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    reply = await openai_sdk.chat.completions.parse(
        model=client_model(kind),
        messages=[{"role": "user", "content": QUESTION}],
        response_format=Weather,
    )
    assert reply.choices[0].message.parsed == Weather(city="Paris", celsius=18)
    check_schema(mesh, kind)


async def test_openai_responses_parse(
    mesh: Mesh, kind: str, openai_sdk: openai.AsyncOpenAI
) -> None:
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    response = await openai_sdk.responses.parse(
        model=client_model(kind), input=QUESTION, text_format=Weather
    )
    assert response.output_parsed == Weather(city="Paris", celsius=18)
    check_schema(mesh, kind)


async def test_anthropic_parse(
    mesh: Mesh, kind: str, anthropic_sdk: anthropic.AsyncAnthropic
) -> None:
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    message = await anthropic_sdk.messages.parse(
        model=client_model(kind),
        max_tokens=200,
        messages=[{"role": "user", "content": QUESTION}],
        output_format=Weather,
    )
    assert message.parsed_output == Weather(city="Paris", celsius=18)
    check_schema(mesh, kind)


@pytest.mark.parametrize("field", ["response_schema", "response_json_schema"])
async def test_genai_response_schema(
    mesh: Mesh, kind: str, field: str, genai_sdk: genai.client.AsyncClient
) -> None:
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    schema: object = Weather if field == "response_schema" else Weather.model_json_schema()
    response = await genai_sdk.models.generate_content(
        model=client_model(kind),
        contents=QUESTION,
        config=types.GenerateContentConfig(
            response_mime_type="application/json", **{field: schema}
        ),
    )
    if field == "response_schema":
        assert response.parsed == Weather(city="Paris", celsius=18)
    else:
        assert response.parsed == {"city": "Paris", "celsius": 18}
    check_schema(mesh, kind)


async def test_json_object_without_schema(
    mesh: Mesh, kind: str, openai_sdk: openai.AsyncOpenAI
) -> None:
    """JSON mode without a schema: native where the upstream has it; Anthropic, which has
    no schema-less JSON mode, gets an instruction appended to the system prompt."""
    mesh.fake(kind).script.push(Reply(text=ANSWER))
    reply = await openai_sdk.chat.completions.create(
        model=client_model(kind),
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": QUESTION},
        ],
        response_format={"type": "json_object"},
    )
    assert reply.choices[0].message.content == ANSWER
    sent = mesh.upstream_requests(kind)[-1]
    if kind == "anthropic":
        assert "output_config" not in sent
        system = upstream_system(kind, sent)
        assert system.startswith(SYSTEM_PROMPT)
        assert "single valid JSON object" in system
    else:
        assert upstream_output_schema(kind, sent) == "json_object"
