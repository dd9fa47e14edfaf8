"""The process settles before it serves: start-up objects frozen, start-up garbage not."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from vanban.platform.runtime import settle_memory


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_what_is_alive_leaves_the_collectors_sight_and_garbage_does_not(thawed: None) -> None:
    kept = Node()
    garbage = Node()
    garbage.other = Node()
    garbage.other.other = garbage  # a cycle only the collector can free
    gone = weakref.ref(garbage)
    del garbage
    settle_memory()
    assert gone() is None, "start-up garbage was collected, not frozen"
    assert gc.get_freeze_count() > 0
    assert not any(o is kept for o in gc.get_objects()), "the living objects are frozen"
