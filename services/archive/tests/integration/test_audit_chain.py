"""The archive's audit log is a hash chain from its migrations on: entries written before the
chain existed are chained by the migration, the unit of work continues the chain, and the
verification names an edited row."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from vanban.archive.adapters.db.audit import verify_audit_chain
from vanban.archive.adapters.db.tables import metadata, platform_tables
from vanban.archive.app import MIGRATIONS
from vanban.platform.audit_chain import GENESIS, Fault, entry_hash
from vanban.platform.db import UnitOfWork, create_engine, session_factory
from vanban.platform.migrations import upgrade, upgrade_async

# The revision before the chain.
UNCHAINED = "7d2f4c81e6a9"


@pytest.fixture
def database_url(make_database: Callable[[str], str]) -> str:
    return make_database(f"archive_{uuid.uuid4().hex[:8]}")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(database_url)
    yield made
    await made.dispose()


async def audit_rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        result = await connection.execute(text("SELECT * FROM audit_log ORDER BY id"))
        return list(result.all())


async def test_the_migrations_make_the_tables_the_code_declares(
    database_url: str, engine: AsyncEngine
) -> None:
    await upgrade_async(database_url, MIGRATIONS)

    def differences(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_entries_from_before_the_chain_are_chained_and_the_service_continues_it(
    database_url: str, engine: AsyncEngine
) -> None:
    await asyncio.to_thread(upgrade, database_url, MIGRATIONS, UNCHAINED)
    async with engine.begin() as connection:
        for n in range(5):
            await connection.execute(
                text(
                    "INSERT INTO audit_log (occurred_at, actor, action, resource, before, after)"
                    " VALUES (now() - make_interval(days => :n), 'people/van-thu',"
                    " 'object.store', :resource, NULL, :after)"
                ),
                {
                    "n": 5 - n,
                    "resource": f"objects/{n}",
                    "after": '{"tên": "Quyết định", "n": [1, 2.5, true, null], "k": {"b": 1}}',
                },
            )

    await upgrade_async(database_url, MIGRATIONS)
    sessions = session_factory(engine)
    async with UnitOfWork(sessions, tables=platform_tables, source="/archive-tests") as uow:
        uow.audit(actor="service:archive", action="object.claim", resource="objects/4")
        await uow.commit()

    rows = await audit_rows(engine)
    assert rows[0].previous_hash == GENESIS
    assert [row.previous_hash for row in rows[1:]] == [row.entry_hash for row in rows[:-1]]
    assert [entry_hash(row._mapping) for row in rows] == [row.entry_hash for row in rows]
    report = await verify_audit_chain(sessions=sessions, batch=2)
    assert (report.ok, report.checked, report.head) == (True, 6, rows[-1].entry_hash)


async def test_an_archive_entry_edited_in_the_database_is_named_at_that_row(
    database_url: str, engine: AsyncEngine
) -> None:
    await upgrade_async(database_url, MIGRATIONS)
    sessions = session_factory(engine)
    for n in range(4):
        async with UnitOfWork(sessions, tables=platform_tables, source="/archive-tests") as uow:
            uow.audit(
                actor="people/van-thu",
                action="object.store",
                resource=f"objects/{n}",
                after={"created": True, "size": 1024},
            )
            await uow.commit()
    target = (await audit_rows(engine))[2]
    async with engine.begin() as connection:
        await connection.execute(
            text("""UPDATE audit_log SET after = '{"created": true, "size": 1}' WHERE id = :id"""),
            {"id": target.id},
        )

    report = await verify_audit_chain(sessions=sessions)

    assert report.broken is not None
    assert (report.broken.id, report.broken.resource, report.broken.fault) == (
        target.id,
        "objects/2",
        Fault.CONTENT_ALTERED,
    )
