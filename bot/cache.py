"""A bounded mapping for per-member caches: memory stays flat however many members come by."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Generic, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")


class LRU(Generic[K, V]):
    """The ``size`` most recently used entries; the least recently used goes first.

    Only for what can be looked up again: a forgotten entry is a cache miss, never a loss.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("an LRU holds at least one entry")
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._entries))

    def __getitem__(self, key: K) -> V:
        value = self._entries[key]
        self._entries.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get(self, key: K, default: object = None) -> object:
        """The entry for ``key`` (now the most recently used), else ``default``."""
        if key not in self._entries:
            return default
        return self[key]

    def pop(self, key: K, default: V | None = None) -> V | None:
        """Forget ``key``; what it held, else ``default``."""
        return self._entries.pop(key, default)

    def items(self) -> list[tuple[K, V]]:
        """The keys and entries, least recently used first."""
        return list(self._entries.items())
