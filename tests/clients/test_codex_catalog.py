"""The ChatGPT subscription's model list against the catalog bundled with the pinned Codex
CLI: Codex keeps its catalog (the models it offers, and which it asks for by default) as
JSON inside its binary, so it is read from there, never guessed."""

from __future__ import annotations

import json
import mmap
from pathlib import Path
from typing import Any

from router.config.schema import compile_model_pattern
from router.config.subscriptions import ChatGPTSubscriptionConfig
from router.config.wire.chatgpt import CODEX_CATALOG
from router.routing.catalog import catalog
from tests.clients.clients import BIN, DEFAULT_MODELS
from tests.clients.conftest import require_clients

CATALOG_START = b'{\n  "models": [\n    {\n      "slug": '


def codex_binary() -> Path:
    """The native binary of the pinned Codex (its npm package for this platform)."""
    found = sorted((BIN.parent / "@openai").glob("codex-*/vendor/*/bin/codex"))
    assert found, "the pinned Codex has no native binary installed"
    return found[0]


def bundled_catalog() -> list[dict[str, Any]]:
    """The models of the catalog compiled into the pinned Codex binary, in its order."""
    with (
        codex_binary().open("rb") as file,
        mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        start = data.find(CATALOG_START)
        assert start >= 0, "no bundled model catalog found in the Codex binary"
        text = data[start : start + 4_000_000].decode("utf-8", "replace")
    models, _ = json.JSONDecoder().raw_decode(text)
    return list(models["models"])


def test_the_subscription_lists_exactly_the_pinned_codex_catalog() -> None:
    require_clients()
    assert tuple(model["slug"] for model in bundled_catalog()) == CODEX_CATALOG


def test_every_catalog_model_is_served_and_described() -> None:
    require_clients()
    patterns = [compile_model_pattern(p) for p in ChatGPTSubscriptionConfig().models]
    for model in bundled_catalog():
        slug = model["slug"]
        assert any(p.fullmatch(slug) for p in patterns), f"{slug} is not served by default"
        known = catalog().get(slug)
        assert known is not None, f"{slug} is missing from router/routing/catalog.json"
        assert known.context_window == model["context_window"]


def test_the_recorded_default_is_codex_own_responses_lite_default() -> None:
    """What tests/clients records and runs as codex-lite is the first model of Codex's
    catalog, one it marks use_responses_lite."""
    require_clients()
    first = bundled_catalog()[0]
    assert DEFAULT_MODELS["codex-lite"] == first["slug"]
    assert first["use_responses_lite"] is True
