"""System messages inside the conversation: in place for OpenAI Chat upstreams, or one
leading system message for a provider configured with `system-messages: merge`."""

from __future__ import annotations

from pathlib import Path

import anthropic
import pytest
import yaml

from router.config import ConfigError, read_config
from tests.conftest import StartRouter, provider
from tests.fakes.behaviours import Reply
from tests.fakes.openai import OpenAIFake

CONVERSATION = [
    {"role": "user", "content": "hi"},
    {"role": "system", "content": "The user switched to plan mode."},
    {"role": "assistant", "content": "ok"},
    {"role": "user", "content": "go"},
]


@pytest.mark.parametrize("mode", ["keep", "merge"])
async def test_claude_code_system_message_to_an_openai_upstream(
    router_factory: StartRouter, openai_fake: OpenAIFake, mode: str
) -> None:
    openai_fake.script.always(Reply(text="done"))
    entry = provider(
        "p", openai_fake.base_url + "/v1", [openai_fake.key], ["gpt-4o"], kind="openai"
    )
    entry["system-messages"] = mode
    router = await router_factory({"providers": [entry]})
    async with anthropic.AsyncAnthropic(base_url=router.url, api_key="x", max_retries=0) as sdk:
        answer = await sdk.messages.create(
            model="gpt-4o",
            max_tokens=100,
            system="You are Claude Code.",
            messages=CONVERSATION,  # type: ignore[arg-type]
        )
    assert answer.content[0].text == "done"  # type: ignore[union-attr]
    sent = openai_fake.last_request.json["messages"]
    if mode == "keep":
        assert [(m["role"], m["content"]) for m in sent] == [
            ("system", "You are Claude Code."),
            ("user", "hi"),
            ("system", "The user switched to plan mode."),
            ("assistant", "ok"),
            ("user", "go"),
        ]
    else:
        assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
        assert "plan mode" in str(sent[0]["content"])


def test_system_messages_option_is_checked(tmp_path: Path) -> None:
    entry = provider("p", "http://127.0.0.1:1/v1", ["k"], ["m"], kind="openai")
    entry["system-messages"] = "join"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"providers": [entry]}))
    with pytest.raises(ConfigError) as caught:
        read_config(path, env={})
    assert caught.value.problems == [
        "providers[0].system-messages: expected 'keep' or 'merge', got 'join'"
    ]
