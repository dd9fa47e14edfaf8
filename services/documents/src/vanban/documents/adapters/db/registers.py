"""The numbers of a register's year: taken from its counter row, cancelled ones kept on record."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.documents.adapters.db.tables import cancelled_numbers, counters
from vanban.documents.domain.numbering import CancelledNumber
from vanban.platform.errors import AlreadyExistsError


async def take_number(session: AsyncSession, register_id: str, year: int) -> int:
    """The next number of the register's year, inside the session's transaction.

    One statement creates the year's counter at 1 or bumps it, and the row stays locked until the
    transaction ends: another transaction (on any replica) taking a number of the same register
    and year waits, then sees the committed value. A rollback gives the number back, as it was
    never committed, so the committed numbers are gapless. Not a SEQUENCE: those never go back.
    """
    statement = (
        pg_insert(counters)
        .values(series=register_id, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[counters.c.series, counters.c.year],
            set_={"last_number": counters.c.last_number + 1},
        )
        .returning(counters.c.last_number)
    )
    number: int = (await session.execute(statement)).scalar_one()
    return number


class SqlRegisterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def take_number(self, register_id: str, year: int) -> int:
        return await take_number(self._session, register_id, year)

    async def last_issued(self, register_id: str, year: int) -> int:
        last = (
            await self._session.execute(
                select(counters.c.last_number).where(
                    counters.c.series == register_id, counters.c.year == year
                )
            )
        ).scalar_one_or_none()
        return last or 0

    async def cancellations(self, register_id: str, year: int) -> list[CancelledNumber]:
        rows = await self._session.execute(
            select(cancelled_numbers)
            .where(cancelled_numbers.c.register_id == register_id, cancelled_numbers.c.year == year)
            .order_by(cancelled_numbers.c.number)
        )
        return [
            CancelledNumber(
                register_id=row.register_id,
                year=row.year,
                number=row.number,
                reason=row.reason,
                cancelled_by=row.cancelled_by,
                at=row.cancelled_at,
            )
            for row in rows
        ]

    async def add_cancellation(self, cancelled: CancelledNumber) -> None:
        """Keeps the cancellation; the counter is left as it is, so the number stays taken."""
        statement = (
            pg_insert(cancelled_numbers)
            .values(
                register_id=cancelled.register_id,
                year=cancelled.year,
                number=cancelled.number,
                reason=cancelled.reason,
                cancelled_by=cancelled.cancelled_by,
                cancelled_at=cancelled.at,
            )
            .on_conflict_do_nothing()
            .returning(cancelled_numbers.c.number)
        )
        if (await self._session.execute(statement)).first() is None:
            raise AlreadyExistsError(
                f"number {cancelled.number} of {cancelled.year} is already cancelled",
                reason="NUMBER_ALREADY_CANCELLED",
            )
