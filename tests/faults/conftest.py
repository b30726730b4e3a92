"""Fixtures of the fault tests: the three fakes, started together."""

from __future__ import annotations

import pytest

from tests.fakes.anthropic import AnthropicFake
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.faults.clients import Fakes


@pytest.fixture
def fakes(openai_fake: OpenAIFake, anthropic_fake: AnthropicFake, gemini_fake: GeminiFake) -> Fakes:
    return Fakes(openai_fake, anthropic_fake, gemini_fake)
