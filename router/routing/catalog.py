"""The model catalog (catalog.json): concrete names for upstreams that serve a pattern.

A pattern such as the Claude subscription's ``claude-*`` serves any name, but a model
picker needs names to show; the catalog lists the current ones, with their context
window, longest answer and input modalities where known.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

_PATH = Path(__file__).with_name("catalog.json")


@dataclass(frozen=True)
class CatalogModel:
    id: str
    context_window: int | None = None
    max_output: int | None = None
    input: tuple[str, ...] = ("text",)


@functools.cache
def catalog() -> dict[str, CatalogModel]:
    """Model id -> what is known about it, in file order."""
    entries = json.loads(_PATH.read_text())["models"]
    return {
        e["id"]: CatalogModel(
            e["id"], e.get("context_window"), e.get("max_output"), tuple(e.get("input", ["text"]))
        )
        for e in entries
    }
