"""The evidence chain in PostgreSQL: appends from many transactions at once still make one chain,
and a row edited afterwards is named by the walk, at that row."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from vanban.exchange.adapters.db import evidence
from vanban.exchange.adapters.db.tables import evidence as evidence_table
from vanban.exchange.adapters.db.tables import metadata
from vanban.exchange.app import MIGRATIONS
from vanban.exchange.domain.evidence import Break, first_break
from vanban.platform.migrations import upgrade_async


@pytest.fixture
async def engine(make_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    url = make_database(f"exchange_{uuid.uuid4().hex[:8]}")
    await upgrade_async(url, MIGRATIONS)
    made = create_async_engine(url)
    yield made
    await made.dispose()


async def append_one(sessions: async_sessionmaker[AsyncSession], number: int) -> None:
    async with sessions() as session, session.begin():
        await evidence.append(
            session,
            at=datetime.now(UTC),
            actor="service:exchange",
            direction="received" if number % 2 else "sent",
            kind="document",
            counterpart="000.00.00.H98",
            package_id=str(uuid.uuid4()),
            sha256=f"{number:064x}",
            summary=f"package {number}",
        )


async def walk(engine: AsyncEngine) -> tuple[int, Break | None]:
    async with AsyncSession(engine) as session:
        entries = [pair async for pair in evidence.entries(session, batch=7)]
    return len(entries), first_break(entries)


async def test_concurrent_appends_make_one_unbroken_chain(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    await asyncio.gather(*(append_one(sessions, number) for number in range(1, 31)))

    count, broken = await walk(engine)

    assert (count, broken) == (30, None)


async def test_an_edited_row_is_named_at_that_row(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    for number in range(1, 11):
        await append_one(sessions, number)
    async with engine.begin() as conn:
        await conn.execute(
            sa.update(evidence_table)
            .where(evidence_table.c.sequence == 6)
            .values(counterpart="000.00.00.G22")
        )

    _, broken = await walk(engine)

    assert broken is not None and broken.sequence == 6


async def test_the_migrations_make_the_tables_the_code_uses(engine: AsyncEngine) -> None:
    def differences(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == []
