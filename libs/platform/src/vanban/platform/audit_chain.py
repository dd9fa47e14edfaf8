"""The tamper-evident audit log (issue 12): each entry's hash covers the previous entry's hash, so
editing, removing or inserting a row afterwards breaks the chain at that row.

A service opts in with `event_tables(metadata, chained_audit=True)`; `UnitOfWork.commit()` then
appends through `lock_head` and `chain`, and `verify_chain` walks what is stored. PostgreSQL only:
appends are serialised by an advisory lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

# The previous hash of the first entry.
GENESIS = "0" * 64

# Not hashed: the id is the database's, and the entry hash is the result.
_UNHASHED = frozenset({"id", "entry_hash"})

# One chain per database: the key of the transaction-level advisory lock that serialises appends
# (and a migration that chains the entries written before).
CHAIN_LOCK_KEY = func.hashtextextended("vanban.audit_chain", 0)


class Fault(StrEnum):
    # The row's recomputed hash is not the hash stored with it: one of its columns was edited.
    CONTENT_ALTERED = "content altered"
    # The row does not follow the entry before it: a row was removed or inserted before it.
    LINK_BROKEN = "link broken"


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("an audit entry's time must carry its time zone")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    # What PostgreSQL's json column gives back, not what was handed to it: a tuple comes back a
    # list and an integer key a string, and the two must hash alike.
    return json.loads(json.dumps(value, allow_nan=False))


def entry_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 of an entry: canonical JSON (sorted keys, compact, UTF-8, times in UTC to the
    microsecond) of every column but `id` and `entry_hash`, `previous_hash` included.

    Every column, not a list of them, so that a column added later is covered too; the row
    written and the row read back must therefore carry the same columns.
    """
    if "previous_hash" not in row:
        raise ValueError("an audit entry's hash covers its previous hash, which is missing")
    fields = {name: _canonical(value) for name, value in row.items() if name not in _UNHASHED}
    canonical = json.dumps(
        fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    # surrogatepass: a lone surrogate the json column accepted still hashes, and always alike.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def chain(entries: Iterable[Mapping[str, Any]], *, head: str) -> list[dict[str, Any]]:
    """The entries, in order, each with its `previous_hash` and `entry_hash`, after `head`."""
    chained: list[dict[str, Any]] = []
    for entry in entries:
        row = {**entry, "previous_hash": head}
        head = row["entry_hash"] = entry_hash(row)
        chained.append(row)
    return chained


async def lock_head(session: AsyncSession, table: Table) -> str:
    """Takes the chain's lock until the session's transaction ends and answers the hash of the
    last entry (GENESIS when there is none).

    The lock comes first: under READ COMMITTED the read that follows then sees every entry a
    previous holder committed. (A REPEATABLE READ transaction that read before would not.)
    """
    await session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
    last = await session.scalar(select(table.c.entry_hash).order_by(table.c.id.desc()).limit(1))
    return GENESIS if last is None else str(last)


def fault(row: Mapping[str, Any], *, previous_hash: str) -> Fault | None:
    """What is wrong with a stored entry that should follow `previous_hash`, if anything."""
    if row["previous_hash"] != previous_hash:
        return Fault.LINK_BROKEN
    if entry_hash(row) != row["entry_hash"]:
        return Fault.CONTENT_ALTERED
    return None


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first entry at which the chain does not hold."""

    id: int
    occurred_at: datetime
    action: str
    resource: str
    fault: Fault


@dataclass(frozen=True, slots=True)
class ChainReport:
    # Entries looked at, the broken one included.
    checked: int
    # The hash of the last entry that holds: the whole chain's head when it is intact. Kept
    # elsewhere, it shows later that no entry was removed from the end.
    head: str
    broken: BrokenLink | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def verify_chain(session: AsyncSession, table: Table, *, batch: int = 1000) -> ChainReport:
    """Walks the chain in id order, `batch` rows at a time, and stops at the first broken link.

    Run it in one REPEATABLE READ transaction for a walk of one moment; entries appended while
    a READ COMMITTED walk runs only lengthen the chain it sees.
    """
    head, checked = GENESIS, 0
    after: int | None = None
    while True:
        query = select(table).order_by(table.c.id).limit(batch)
        if after is not None:
            query = query.where(table.c.id > after)
        rows = (await session.execute(query)).all()
        if not rows:
            return ChainReport(checked=checked, head=head)
        for row in rows:
            checked += 1
            fields = dict(row._mapping)
            found = fault(fields, previous_hash=head)
            if found is not None:
                return ChainReport(
                    checked=checked,
                    head=head,
                    broken=BrokenLink(
                        id=row.id,
                        occurred_at=row.occurred_at,
                        action=row.action,
                        resource=row.resource,
                        fault=found,
                    ),
                )
            head = fields["entry_hash"]
        after = rows[-1].id
