from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.gateway.adapters.db.tables import refresh_tokens, session_revocations
from vanban.gateway.domain.revocations import Revocation, Revocations
from vanban.platform.db import UnitOfWorkFactory, changed_rows

logger = logging.getLogger(__name__)


class SqlRevocationLog:
    """The revocation log in the gateway's database, shared by its replicas."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def end_sessions_below(self, person_id: str, version: int, *, at: datetime) -> bool:
        """Voids the person's tokens and refresh sessions older than `version`; returns whether
        this version was news (a redelivered or older event changes nothing)."""
        known = await self._session.scalar(
            select(func.max(session_revocations.c.min_version)).where(
                session_revocations.c.person_id == person_id
            )
        )
        if known is not None and known >= version:
            return False
        await self._session.execute(
            insert(session_revocations).values(at=at, person_id=person_id, min_version=version)
        )
        await self._session.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.person_id == person_id,
                refresh_tokens.c.session_version < version,
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
        return True

    async def end_family(self, family_id: str, *, at: datetime) -> None:
        await self._session.execute(insert(session_revocations).values(at=at, family_id=family_id))

    async def since(self, since: datetime) -> list[Revocation]:
        """Facts recorded at or after `since`. Readers overlap their windows rather than page
        by id: a transaction that took a lower id may commit after a higher one was read."""
        rows = await self._session.execute(
            select(session_revocations)
            .where(session_revocations.c.at >= since)
            .order_by(session_revocations.c.id)
        )
        return [
            Revocation(
                at=row.at,
                person_id=row.person_id,
                min_version=row.min_version,
                family_id=row.family_id,
            )
            for row in rows
        ]

    async def forget_before(self, before: datetime) -> int:
        return await changed_rows(
            self._session, delete(session_revocations).where(session_revocations.c.at < before)
        )


class RevocationFollower:
    """Keeps this replica's `Revocations` in step with the shared log: loads what a live token
    could still be older than at start, then polls every `poll_seconds`."""

    # Readers look back this far past their last read, so a transaction that committed late
    # is still seen; applying a fact twice is harmless.
    OVERLAP = timedelta(seconds=60)
    PURGE_EVERY = timedelta(minutes=10)

    def __init__(
        self,
        *,
        revocations: Revocations,
        uow_factory: UnitOfWorkFactory,
        keep: timedelta,
        poll_seconds: float,
    ) -> None:
        self._revocations = revocations
        self._uow_factory = uow_factory
        self._keep = keep
        self._poll = poll_seconds
        self._read_from: datetime | None = None
        self._purged_at: datetime | None = None

    async def poll_once(self) -> None:
        now = datetime.now(UTC)
        since = self._read_from or now - self._keep
        async with self._uow_factory() as uow:
            log = SqlRevocationLog(uow.session)
            for revocation in await log.since(since):
                self._revocations.apply(revocation)
            if self._purged_at is None or now - self._purged_at >= self.PURGE_EVERY:
                await log.forget_before(now - self._keep)
                await uow.commit()
                self._purged_at = now
        self._revocations.forget_before(now)
        self._read_from = now - self.OVERLAP

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception:
                # Keep following: a database hiccup must not stop revocations for good.
                logger.exception("could not read the session revocation log")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll)
