"""The chained audit log in PostgreSQL: written by the unit of work, read back to the same hash,
and a row edited or removed with plain SQL is named by the walk, at that row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from vanban.platform.audit_chain import (
    GENESIS,
    BrokenLink,
    ChainReport,
    Fault,
    chain,
    entry_hash,
    verify_chain,
)
from vanban.platform.db import UnitOfWork, create_engine, make_metadata, session_factory
from vanban.platform.events.tables import EventTables, event_tables

HANOI = timezone(timedelta(hours=7))

# What JSON can hold, as the archive's entries hold it: Vietnamese text, nesting, null, numbers
# of both kinds, booleans.
AWKWARD: dict[str, object] = {
    "tên": "Quyết định số 05/QĐ-UBND về việc ban hành Quy chế",
    "nested": {"z": {"đ": [1, 2.5, None, True, False]}, "a": {}},
    "none": None,
    "int": 9007199254740993,
    "negative": -42,
    "float": 0.1,
    "huge": 1e100,
    "tiny": 5e-324,
    "yes": True,
    "no": False,
    "list": ["Ủy ban", {"b": 1, "a": 2}, []],
}


@dataclass
class Log:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: EventTables

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, tables=self.tables, source="/platform-tests")

    async def write(self, *resources: str) -> None:
        """One transaction auditing `resources`, in order."""
        async with self.uow() as uow:
            for resource in resources:
                uow.audit(
                    actor="people/van-thu",
                    action="object.store",
                    resource=resource,
                    before={"size": 1},
                    after={"size": 2, "tên": "Công văn"},
                )
            await uow.commit()

    async def verify(self, *, batch: int = 1000) -> ChainReport:
        async with self.sessions() as session, session.begin():
            return await verify_chain(session, self.tables.audit, batch=batch)

    async def rows(self) -> list[Any]:
        async with self.sessions() as session:
            audit = self.tables.audit
            return list((await session.execute(select(audit).order_by(audit.c.id))).all())

    async def sql(self, statement: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(text(statement))


@pytest.fixture
async def log(make_database: Callable[..., str]) -> AsyncIterator[Log]:
    metadata = make_metadata()
    tables = event_tables(metadata, chained_audit=True)
    engine = create_engine(make_database("audit_chain"))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield Log(engine=engine, sessions=session_factory(engine), tables=tables)
    finally:
        await engine.dispose()


async def test_values_read_back_from_postgresql_hash_as_they_were_written(log: Log) -> None:
    async with log.uow() as uow:
        uow.audit(actor="people/van-thu", action="object.store", resource="a", after=AWKWARD)
        uow.audit(actor="people/van-thu", action="object.claim", resource="b", before=AWKWARD)
        await uow.commit()
    # Beside the unit of work's own: a time in another zone, to the whole second, and values the
    # json column answers otherwise (a tuple, integer keys).
    written = {
        "occurred_at": datetime(2026, 11, 30, 8, 0, tzinfo=HANOI),
        "actor": "service:archive",
        "on_behalf_of": "people/lanh-dao",
        "action": "object.collect",
        "resource": "objects/ab12",
        "before": {10: "mười", 9: ("chín", 9.5)},
        "after": None,
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
    }
    head = (await log.rows())[-1].entry_hash
    async with log.sessions() as session, session.begin():
        await session.execute(insert(log.tables.audit), chain([written], head=head))

    rows = await log.rows()
    assert [row.after for row in rows[:1]] == [AWKWARD]
    assert [entry_hash(row._mapping) for row in rows] == [row.entry_hash for row in rows]
    report = await log.verify()
    assert (report.ok, report.checked, report.head) == (True, 3, rows[-1].entry_hash)


async def test_an_empty_log_is_intact_at_the_genesis_hash(log: Log) -> None:
    assert await log.verify() == ChainReport(checked=0, head=GENESIS)


async def test_entries_written_in_many_transactions_make_one_chain(log: Log) -> None:
    for n in range(5):
        await log.write(f"objects/{n}a", f"objects/{n}b")

    rows = await log.rows()
    assert rows[0].previous_hash == GENESIS
    assert [row.previous_hash for row in rows[1:]] == [row.entry_hash for row in rows[:-1]]
    # Batches smaller than the log: the walk carries the link from one batch to the next.
    assert await log.verify(batch=3) == ChainReport(checked=10, head=rows[-1].entry_hash)


@pytest.mark.parametrize(
    "edit",
    [
        "occurred_at = occurred_at + interval '1 microsecond'",
        "actor = 'people/ke-gian'",
        "on_behalf_of = 'people/lanh-dao'",
        "action = 'object.delete'",
        "resource = 'objects/other'",
        """before = '{"size": 3}'""",
        """after = '{"size": 2, "tên": "Công văn giả"}'""",
        "trace_id = '0af7651916cd43dd8448eb211c80319c'",
    ],
)
async def test_an_edited_row_is_named_content_altered_at_that_row(log: Log, edit: str) -> None:
    for n in range(3):
        await log.write(f"objects/{n}a", f"objects/{n}b")
    rows = await log.rows()
    target = rows[3]

    await log.sql(f"UPDATE audit_log SET {edit} WHERE id = {target.id}")

    report = await log.verify(batch=2)
    edited = (await log.rows())[3]
    assert not report.ok and report.broken is not None
    assert report.broken == BrokenLink(
        id=target.id,
        occurred_at=edited.occurred_at,
        action=edited.action,
        resource=edited.resource,
        fault=Fault.CONTENT_ALTERED,
    )
    # The walk stopped there: the head is the last entry that held.
    assert (report.checked, report.head) == (4, rows[2].entry_hash)


@pytest.mark.parametrize("removed", [0, 2])
async def test_the_row_after_a_deleted_one_is_named_link_broken(log: Log, removed: int) -> None:
    for n in range(3):
        await log.write(f"objects/{n}a", f"objects/{n}b")
    rows = await log.rows()

    await log.sql(f"DELETE FROM audit_log WHERE id = {rows[removed].id}")

    report = await log.verify(batch=2)
    assert report.broken is not None
    following = rows[removed + 1]
    assert (report.broken.id, report.broken.fault) == (following.id, Fault.LINK_BROKEN)
    assert (report.broken.action, report.broken.resource) == (following.action, following.resource)


async def test_a_row_rehashed_after_its_edit_breaks_the_link_after_it(log: Log) -> None:
    await log.write("objects/a", "objects/b", "objects/c")
    rows = await log.rows()
    forged = {**rows[1]._mapping, "resource": "objects/forged"}

    await log.sql(
        f"UPDATE audit_log SET resource = 'objects/forged', entry_hash = '{entry_hash(forged)}' "
        f"WHERE id = {rows[1].id}"
    )

    report = await log.verify()
    assert report.broken is not None
    assert (report.broken.id, report.broken.fault) == (rows[2].id, Fault.LINK_BROKEN)


async def test_removing_the_last_entry_shows_as_another_head(log: Log) -> None:
    await log.write("objects/a", "objects/b")
    before = await log.verify()
    rows = await log.rows()

    await log.sql(f"DELETE FROM audit_log WHERE id = {rows[-1].id}")

    after = await log.verify()
    assert after.ok and after.head != before.head and after.head == rows[0].entry_hash


async def test_concurrent_transactions_still_make_one_unbroken_chain(log: Log) -> None:
    # As many at once as the pool has connections, each holding its transaction open while
    # the others commit.
    await asyncio.gather(*(log.write(f"objects/{n}a", f"objects/{n}b") for n in range(20)))

    report = await log.verify(batch=7)
    assert (report.ok, report.checked) == (True, 40)
    rows = await log.rows()
    # Each transaction's entries are consecutive in the chain as they are in id order.
    assert [row.resource[-1] for row in rows] == ["a", "b"] * 20
