"""Appending to and reading the evidence chain, in the caller's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.exchange.adapters.db.tables import evidence
from vanban.exchange.domain.evidence import GENESIS, Entry

# One chain per agency (per database): appends are serialised by this advisory lock, held to
# the end of the appending transaction, so every entry sees the one before it.
_CHAIN_LOCK = sa.func.hashtextextended("vanban.exchange.evidence", 0)


async def append(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    direction: str,
    kind: str,
    counterpart: str,
    package_id: str,
    sha256: str,
    summary: str,
) -> tuple[Entry, str]:
    """The new entry and its hash, written in the session's transaction."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHAIN_LOCK)))
    last = (
        await session.execute(
            sa.select(evidence.c.sequence, evidence.c.entry_hash)
            .order_by(evidence.c.sequence.desc())
            .limit(1)
        )
    ).first()
    entry = Entry(
        sequence=(last.sequence + 1) if last else 1,
        recorded_at=at,
        actor=actor[:128],
        direction=direction,
        kind=kind,
        counterpart=counterpart,
        package_id=package_id,
        sha256=sha256,
        summary=summary[:500],
        previous_hash=last.entry_hash if last else GENESIS,
    )
    digest = entry.digest()
    await session.execute(
        sa.insert(evidence).values(
            sequence=entry.sequence,
            recorded_at=entry.recorded_at,
            actor=entry.actor,
            direction=entry.direction,
            kind=entry.kind,
            counterpart=entry.counterpart,
            package_id=entry.package_id,
            sha256=entry.sha256,
            summary=entry.summary,
            previous_hash=entry.previous_hash,
            entry_hash=digest,
        )
    )
    return entry, digest


async def entries(session: AsyncSession, *, batch: int = 1000) -> AsyncIterator[tuple[Entry, str]]:
    """Every entry in sequence order, read in batches."""
    after = 0
    while True:
        rows = (
            await session.execute(
                sa.select(evidence)
                .where(evidence.c.sequence > after)
                .order_by(evidence.c.sequence)
                .limit(batch)
            )
        ).all()
        if not rows:
            return
        for row in rows:
            entry = Entry(
                sequence=row.sequence,
                recorded_at=row.recorded_at,
                actor=row.actor,
                direction=row.direction,
                kind=row.kind,
                counterpart=row.counterpart,
                package_id=row.package_id,
                sha256=row.sha256,
                summary=row.summary,
                previous_hash=row.previous_hash,
            )
            yield entry, row.entry_hash
        after = rows[-1].sequence
