"""The start-up heap is left out of full collections; what is made later is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.heap import freeze_startup_heap


@pytest.fixture
def thawed_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()  # (the test process is not a bot: its heap goes on changing)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_the_startup_heap_is_frozen_and_later_garbage_still_collected(
    thawed_afterwards: None,
) -> None:
    frozen = freeze_startup_heap()
    assert frozen == gc.get_freeze_count() > 1000  # the modules, at the least
    # A cycle made after start-up (a request's objects) is garbage the collector still finds.
    later, partner = _Node(), _Node()
    later.other, partner.other = partner, later
    later_ref = weakref.ref(later)
    del later, partner
    gc.collect()
    assert later_ref() is None
    assert gc.get_freeze_count() == frozen
