"""A small bounded cache whose entries expire, for lookups a process repeats per request."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """At most `maxsize` entries, each kept `ttl` seconds from when it was put. When full, the
    entry put longest ago goes first, so a flood of distinct keys (callers, tokens) costs a
    bounded amount of memory and pushes out only what would expire soonest anyway."""

    def __init__(
        self, *, maxsize: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if maxsize < 1 or ttl <= 0:
            raise ValueError("a cache needs room for one entry and a positive ttl")
        self.maxsize = maxsize
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        self._entries.pop(key, None)
        now = self._clock()
        self._entries[key] = (now + self._ttl, value)
        # Entries are in the order they were put, so the oldest are the first to expire.
        while self._entries and (
            len(self._entries) > self.maxsize or next(iter(self._entries.values()))[0] <= now
        ):
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
