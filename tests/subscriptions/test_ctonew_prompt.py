"""Flattening an OpenAI Chat conversation into cto.new's single prompt."""

from __future__ import annotations

import json

import pytest

from router.subscriptions.ctonew.prompt import PromptError, body_size, check_size, flatten


def test_roles_become_labelled_blocks_in_order() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": "Answer in English."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Two"}, {"type": "text", "text": "parts"}],
        },
    ]
    assert flatten(messages) == (
        "system:\nBe brief.\n\nsystem:\nAnswer in English.\n\nuser:\nHi\n\n"
        "assistant:\nHello!\n\nuser:\nTwo\nparts"
    )


def test_tool_calls_and_results_are_written_as_text() -> None:
    messages = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "rain"},
    ]
    assert flatten(messages) == (
        'user:\nWeather?\n\nassistant:\n[tool call weather({"city":"Oslo"})]\n\ntool:\nrain'
    )


def test_empty_messages_are_skipped() -> None:
    assert flatten([{"role": "assistant", "content": ""}, {"role": "user", "content": "x"}]) == (
        "user:\nx"
    )


@pytest.mark.parametrize(
    "messages, fragment",
    [
        (None, "non-empty list"),
        ([], "non-empty list"),
        (["hi"], "messages[0]: expected an object"),
        ([{"content": "hi"}], "messages[0].role"),
        ([{"role": "user", "content": 5}], "messages[0].content"),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            "text only, not image_url",
        ),
        ([{"role": "user", "content": ""}], "every message is empty"),
    ],
)
def test_what_cannot_be_flattened_is_refused(messages, fragment: str) -> None:
    with pytest.raises(PromptError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        flatten(messages)


def test_size_counts_the_prompt_as_it_travels_in_the_body() -> None:
    prompt = 'line "one"\nzwei \u00fc'
    encoded = json.dumps({"prompt": prompt}, ensure_ascii=False, separators=(",", ":")).encode()
    assert body_size(prompt) == len(encoded) - len(b'{"prompt":""}')


def test_prompt_over_the_limit_is_a_clear_client_error() -> None:
    check_size("x" * 100, 100)
    with pytest.raises(PromptError) as caught:
        check_size("\u00fc" * 60, 100)
    assert "120 bytes" in caught.value.message
    assert "at most 100" in caught.value.message
    assert "max-prompt-bytes" in caught.value.message
