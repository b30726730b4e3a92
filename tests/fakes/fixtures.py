"""Pytest fixtures that start one fake upstream per test.

Enable them in a conftest.py with `pytest_plugins = ["tests.fakes.fixtures"]` (root
conftest only) or import the fixture names into a test module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.amp import AmpFake
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake


@pytest.fixture
async def openai_fake() -> AsyncIterator[OpenAIFake]:
    """A started OpenAIFake accepting `openai_fake.key`; closed after the test."""
    async with OpenAIFake() as fake:
        yield fake


@pytest.fixture
async def anthropic_fake() -> AsyncIterator[AnthropicFake]:
    """A started AnthropicFake accepting `.key` (x-api-key) and `.oauth_token` (Bearer)."""
    async with AnthropicFake() as fake:
        yield fake


@pytest.fixture
async def gemini_fake() -> AsyncIterator[GeminiFake]:
    """A started GeminiFake accepting `gemini_fake.key` (header or ?key=)."""
    async with GeminiFake() as fake:
        yield fake


@pytest.fixture
async def amp_fake() -> AsyncIterator[AmpFake]:
    """A started AmpFake accepting the user's Amp key `amp_fake.key` (Bearer)."""
    async with AmpFake() as fake:
        yield fake
