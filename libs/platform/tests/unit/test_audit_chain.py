"""The audit chain's hash: one canonical form, every column in it, and a walk that says which
link broke and how."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from vanban.platform.audit_chain import GENESIS, Fault, chain, entry_hash, fault
from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

HANOI = timezone(timedelta(hours=7))
CHAINED = event_tables(make_metadata(), chained_audit=True).audit
HASHED = [c.name for c in CHAINED.columns if c.name not in ("id", "entry_hash")]


def make_entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "occurred_at": datetime(2026, 11, 30, 1, 2, 3, 450000, tzinfo=UTC),
        "actor": "people/chuyen-vien",
        "on_behalf_of": None,
        "action": "object.store",
        "resource": "objects/ab12",
        "before": None,
        "after": {"tên": "Quyết định số 05", "size": 1024, "created": True},
        "trace_id": None,
        "previous_hash": GENESIS,
    }
    return entry | overrides


def changed(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, dict):
        return {**value, "size": 1025}
    if value is None:
        return {"size": 1} if name in ("before", "after") else "x"
    return value + "x"


@pytest.mark.parametrize("column", HASHED)
def test_every_column_but_the_id_and_the_hash_is_covered(column: str) -> None:
    entry = make_entry()

    assert entry_hash({**entry, column: changed(column, entry[column])}) != entry_hash(entry)


def test_the_id_and_the_stored_hash_are_not() -> None:
    entry = make_entry()

    assert entry_hash({**entry, "id": 7, "entry_hash": "f" * 64}) == entry_hash(entry)


def test_the_canonical_form_is_sorted_compact_utf8_json_with_utc_microseconds() -> None:
    # Pinned: a change of the canonical form breaks every chain already written.
    canonical = (
        '{"action":"object.store","actor":"people/chuyen-vien",'
        '"after":{"created":true,"size":1024,"tên":"Quyết định số 05"},"before":null,'
        '"occurred_at":"2026-11-30T01:02:03.450000+00:00","on_behalf_of":null,'
        f'"previous_hash":"{GENESIS}","resource":"objects/ab12","trace_id":null}}'
    )

    assert entry_hash(make_entry()) == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_same_instant_hashes_alike_in_any_time_zone() -> None:
    utc = make_entry()
    hanoi = make_entry(occurred_at=utc["occurred_at"].astimezone(HANOI))

    assert entry_hash(hanoi) == entry_hash(utc)


def test_a_time_without_its_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        entry_hash(make_entry(occurred_at=datetime(2026, 11, 30, 1, 2, 3)))


def test_values_hash_as_the_json_column_gives_them_back() -> None:
    # PostgreSQL's json column answers a list for a tuple and string keys for integer keys.
    written = make_entry(after={10: "mười", 9: ("chín", 9.5)})
    read_back = make_entry(after={"10": "mười", "9": ["chín", 9.5]})

    assert entry_hash(written) == entry_hash(read_back)


def test_an_entry_without_its_previous_hash_is_refused() -> None:
    entry = make_entry()
    del entry["previous_hash"]

    with pytest.raises(ValueError, match="previous hash"):
        entry_hash(entry)


def test_chaining_links_each_entry_to_the_one_before() -> None:
    entries = [make_entry(resource=f"objects/{n}") for n in range(3)]
    head = "a" * 64

    rows = chain(entries, head=head)

    assert [row["previous_hash"] for row in rows] == [head] + [r["entry_hash"] for r in rows[:2]]
    assert all(row["entry_hash"] == entry_hash(row) for row in rows)
    assert all(fault(row, previous_hash=row["previous_hash"]) is None for row in rows)


def test_an_edited_entry_is_content_altered() -> None:
    [row] = chain([make_entry()], head=GENESIS)

    assert fault({**row, "action": "object.delete"}, previous_hash=GENESIS) is Fault.CONTENT_ALTERED


def test_an_entry_after_a_missing_one_is_a_broken_link() -> None:
    first, _, third = chain([make_entry(resource=f"objects/{n}") for n in range(3)], head=GENESIS)

    assert fault(third, previous_hash=first["entry_hash"]) is Fault.LINK_BROKEN


def test_a_service_that_does_not_opt_in_keeps_the_plain_audit_log() -> None:
    tables = event_tables(make_metadata())

    assert not tables.chained_audit
    assert {"previous_hash", "entry_hash"}.isdisjoint(tables.audit.c.keys())
