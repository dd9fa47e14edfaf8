"""The bounded cache: entries expire, and no number of keys makes it grow past its bound."""

import pytest

from vanban.platform.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_kept_for_its_ttl_only() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(maxsize=10, ttl=30, clock=clock)
    cache.put("a", 1)

    clock.now += 29.9
    assert cache.get("a") == 1
    clock.now += 0.1
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_bound_holds_however_many_keys_arrive() -> None:
    clock = Clock()
    cache: TtlCache[int, int] = TtlCache(maxsize=100, ttl=60, clock=clock)
    for key in range(10_000):
        cache.put(key, key)
        assert len(cache) <= 100

    # The most recent keys stay; the oldest went first.
    assert cache.get(9_999) == 9_999
    assert cache.get(9_900) == 9_900
    assert cache.get(9_899) is None


def test_expired_entries_leave_when_new_ones_arrive() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(maxsize=100, ttl=10, clock=clock)
    for key in "abc":
        cache.put(key, 0)
    clock.now += 11
    cache.put("d", 1)

    assert len(cache) == 1


def test_putting_a_key_again_renews_it() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(maxsize=2, ttl=10, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 3)
    cache.put("c", 4)

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (3, None, 4)


def test_a_cache_without_room_is_refused() -> None:
    with pytest.raises(ValueError):
        TtlCache(maxsize=0, ttl=10)
