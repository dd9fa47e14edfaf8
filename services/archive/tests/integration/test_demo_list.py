"""The demo dossier list is seeded once however many archive replicas start at the same time
(`vanban up --replicas`): one list, approved once, one audit entry of the seeding."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vanban.archive.adapters.db.tables import platform_tables
from vanban.archive.app import MIGRATIONS
from vanban.archive.demo import seed_demo_list
from vanban.platform.db import UnitOfWork, create_engine, session_factory
from vanban.platform.migrations import upgrade_async

REPLICAS = 4


@pytest.fixture
async def engines(make_database: Callable[..., str]) -> AsyncIterator[list[AsyncEngine]]:
    url = make_database("archive_demo")
    await upgrade_async(url, MIGRATIONS)
    made = [create_engine(url, pool_size=1) for _ in range(REPLICAS)]
    yield made
    for engine in made:
        await engine.dispose()


def replica(engine: AsyncEngine) -> Callable[[], UnitOfWork]:
    sessions = session_factory(engine)
    return lambda: UnitOfWork(sessions, tables=platform_tables, source="/agencies/test/archive")


async def test_replicas_starting_together_seed_the_list_once(engines: list[AsyncEngine]) -> None:
    timezone = ZoneInfo("Asia/Ho_Chi_Minh")

    added = await asyncio.gather(
        *(seed_demo_list(uow_factory=replica(engine), timezone=timezone) for engine in engines)
    )

    assert sorted(added) == [0] * (REPLICAS - 1) + [6]
    async with engines[0].connect() as connection:
        seeded = (
            await connection.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'dossier_list.seed'")
            )
        ).scalar_one()
        approvals = (
            await connection.execute(
                text("SELECT count(DISTINCT approved_at), count(*) FROM dossier_list_entries")
            )
        ).one()
    assert seeded == 1
    assert tuple(approvals) == (1, 6)
