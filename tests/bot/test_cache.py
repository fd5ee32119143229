"""The bounded cache behind the per-member caches."""

from __future__ import annotations

import pytest

from bot.cache import LRU


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: LRU[str, int] = LRU(2)
    cache["ana"] = 1
    cache["bob"] = 2
    assert cache["ana"] == 1  # ana is now the most recently used
    cache["cy"] = 3
    assert "bob" not in cache
    assert cache.items() == [("ana", 1), ("cy", 3)]
    assert len(cache) == 2


def test_a_stored_none_is_told_apart_from_a_miss() -> None:
    cache: LRU[str, int | None] = LRU(4)
    cache["ana"] = None
    assert "ana" in cache and cache["ana"] is None
    assert cache.get("bob", -1) == -1
    assert cache.pop("ana", 7) is None
    assert cache.pop("ana", 7) == 7


def test_it_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError):
        LRU(0)
