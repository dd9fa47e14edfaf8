"""The evidence chain names the first entry that was changed or removed after it was kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from vanban.exchange.domain.evidence import GENESIS, Entry, first_break

START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def chain(length: int) -> list[tuple[Entry, str]]:
    entries: list[tuple[Entry, str]] = []
    previous = GENESIS
    for number in range(1, length + 1):
        entry = Entry(
            sequence=number,
            recorded_at=START + timedelta(seconds=number),
            actor="service:exchange",
            direction="sent" if number % 2 else "received",
            kind="document",
            counterpart="000.00.00.H98",
            package_id=f"package-{number}",
            sha256=f"{number:064x}",
            summary=f"entry {number}",
            previous_hash=previous,
        )
        previous = entry.digest()
        entries.append((entry, previous))
    return entries


def test_an_untouched_chain_holds() -> None:
    assert first_break(chain(5)) is None


def test_a_changed_entry_is_named() -> None:
    entries = chain(5)
    entry, stored = entries[2]
    entries[2] = (replace(entry, summary="something else"), stored)
    found = first_break(entries)
    assert found is not None and found.sequence == 3
    assert "content" in found.problem


def test_an_entry_rewritten_with_its_own_hash_breaks_the_next_link() -> None:
    entries = chain(5)
    entry, _ = entries[1]
    forged = replace(entry, counterpart="000.00.00.G22")
    entries[1] = (forged, forged.digest())
    found = first_break(entries)
    assert found is not None and found.sequence == 3
    assert "previous" in found.problem


def test_a_removed_entry_is_named() -> None:
    entries = chain(5)
    del entries[3]
    found = first_break(entries)
    assert found is not None and found.sequence == 5
    assert "entry 4 is missing" in found.problem


def test_the_hash_does_not_depend_on_the_time_zone_the_time_is_read_in() -> None:
    entry, stored = chain(1)[0]
    vietnam = timezone(timedelta(hours=7))
    assert replace(entry, recorded_at=entry.recorded_at.astimezone(vietnam)).digest() == stored


def test_an_entry_without_a_time_zone_has_no_hash() -> None:
    entry, _ = chain(1)[0]
    with pytest.raises(ValueError, match="time zone"):
        replace(entry, recorded_at=entry.recorded_at.replace(tzinfo=None)).digest()
