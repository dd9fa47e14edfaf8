"""Numbers of a register's year taken from the counters in PostgreSQL: gapless and never repeated
across replicas, given back by a rollback, kept taken when cancelled."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from vanban.documents.adapters.db.registers import SqlRegisterRepository
from vanban.documents.adapters.db.tables import metadata
from vanban.documents.app import MIGRATIONS
from vanban.documents.domain.numbering import cancel_number
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.platform.errors import AlreadyExistsError
from vanban.platform.migrations import upgrade_async

TRANSACTIONS = 500
ROLLBACK_SHARE = 0.1
POOL = 20  # per engine: two replicas, 40 connections in all


class RolledBack(Exception):
    """Raised inside a transaction to roll it back, as a failed issue would."""


@pytest.fixture(scope="module")
async def url(make_database: DatabaseFactory) -> str:
    created = make_database("documents_numbering")
    await upgrade_async(created, MIGRATIONS)
    return created


@pytest.fixture(scope="module")
async def replicas(url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines, each with its own pool, as two replicas of the service would have."""
    first = create_async_engine(url, pool_size=POOL, max_overflow=0)
    second = create_async_engine(url, pool_size=POOL, max_overflow=0)
    yield first, second
    await first.dispose()
    await second.dispose()


async def take(engine: AsyncEngine, register_id: str, year: int, *, roll_back: bool) -> int | None:
    """Takes a number in a transaction of its own; the number if it was committed."""
    try:
        async with AsyncSession(engine) as session, session.begin():
            number = await SqlRegisterRepository(session).take_number(register_id, year)
            await asyncio.sleep(0)  # let others queue on the row lock while it is held
            if roll_back:
                raise RolledBack
    except RolledBack:
        return None
    return number


async def test_the_migrations_build_the_tables_the_code_declares(
    replicas: tuple[AsyncEngine, AsyncEngine],
) -> None:
    def differences(connection: Connection) -> list[Any]:
        return compare_metadata(MigrationContext.configure(connection), metadata)

    async with replicas[0].connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_concurrent_numbers_from_two_replicas_are_gapless_with_rollbacks(
    replicas: tuple[AsyncEngine, AsyncEngine],
) -> None:
    chooser = random.Random(8)
    rolled_back = set(chooser.sample(range(TRANSACTIONS), int(TRANSACTIONS * ROLLBACK_SHARE)))
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            take(replicas[i % 2], "outgoing", 2026, roll_back=i in rolled_back)
            for i in range(TRANSACTIONS)
        )
    )
    elapsed = time.perf_counter() - started
    committed = [number for number in results if number is not None]
    print(f"\n{TRANSACTIONS} transactions on 2x{POOL} connections: {elapsed:.2f}s")

    assert len(committed) == TRANSACTIONS - len(rolled_back)
    assert sorted(committed) == list(range(1, len(committed) + 1))
    async with AsyncSession(replicas[1]) as session, session.begin():
        registers = SqlRegisterRepository(session)
        assert await registers.last_issued("outgoing", 2026) == len(committed)
        assert await registers.take_number("outgoing", 2027) == 1
        assert await registers.take_number("outgoing-secret", 2026) == 1
        assert await registers.take_number("outgoing", 2026) == len(committed) + 1


async def test_a_cancelled_number_is_kept_with_its_reason_and_stays_taken(
    replicas: tuple[AsyncEngine, AsyncEngine],
) -> None:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    engine = replicas[0]
    async with AsyncSession(engine) as session, session.begin():
        registers = SqlRegisterRepository(session)
        for _ in range(3):
            await registers.take_number("decisions", 2026)

    async with AsyncSession(engine) as session, session.begin():
        registers = SqlRegisterRepository(session)
        cancelled = cancel_number(
            register_id="decisions",
            year=2026,
            number=2,
            last_issued=await registers.last_issued("decisions", 2026),
            cancellations=await registers.cancellations("decisions", 2026),
            reason="  Ký nhầm người ký  ",
            cancelled_by="clerk-lan",
            at=at,
        )
        await registers.add_cancellation(cancelled)

    async with AsyncSession(engine) as session, session.begin():
        registers = SqlRegisterRepository(session)
        [kept] = await registers.cancellations("decisions", 2026)
        assert (kept.number, kept.reason, kept.cancelled_by, kept.at) == (
            2,
            "Ký nhầm người ký",
            "clerk-lan",
            at,
        )
        assert await registers.last_issued("decisions", 2026) == 3
        assert await registers.cancellations("decisions", 2027) == []
        with pytest.raises(AlreadyExistsError) as raised:
            await registers.add_cancellation(cancelled)
        assert raised.value.reason == "NUMBER_ALREADY_CANCELLED"

    async with AsyncSession(engine) as session, session.begin():
        assert await SqlRegisterRepository(session).take_number("decisions", 2026) == 4
