"""The collector settings for a long-running router (router/heap.py): startup objects are
frozen out of collections, and what a reload replaced is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from router import heap
from tests.conftest import StartRouter, provider
from tests.fakes.openai import OpenAIFake


class Node:
    """A container that can sit in a reference cycle and be watched through a weakref."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return first, weakref.ref(first)


@pytest.fixture(autouse=True)
def restore_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_collects_garbage_freezes_the_rest_and_sets_the_thresholds() -> None:
    node, watched = cycle()
    del node
    kept = Node()
    heap.settle()
    assert watched() is None
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == heap.THRESHOLDS
    assert gc.is_tracked(kept)


def test_a_cycle_frozen_while_alive_is_collected_by_the_next_settle() -> None:
    node, watched = cycle()
    heap.settle()
    del node
    gc.collect()
    assert watched() is not None  # frozen: invisible to ordinary collections
    heap.settle()
    assert watched() is None


def quieter(path: Path) -> None:
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "log-level": "warning"}))


async def test_a_reload_collects_the_runtime_it_replaced_even_though_it_was_frozen(
    router_factory: StartRouter, openai_fake: OpenAIFake
) -> None:
    up = provider("up", openai_fake.base_url, [openai_fake.key], ["m"])
    router = await router_factory({"providers": [up]})
    replaced = weakref.ref(router.state.runtime)
    router.state.runtime.test_cycle = [router.state.runtime]  # type: ignore[attr-defined]
    heap.settle()  # as serve() does once the router is up: the first runtime is frozen
    quieter(Path(str(router.state.config_path)))
    assert await router.state.reload()
    for task in list(router.state._background):
        await task
    assert replaced() is None
