"""The scheduled fixity check against real PostgreSQL and SeaweedFS: it re-reads a share of the
kept objects each run, least recently checked first, and a flipped byte in the S3 server's own
storage is reported (row, event, audit)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vanban.archive.adapters.db.tables import platform_tables
from vanban.archive.adapters.records_jobs import FixityAlarm, RecordsJobs
from vanban.archive.adapters.s3.store import S3ObjectStore
from vanban.archive.adapters.transaction import ArchiveTransaction
from vanban.archive.app import MIGRATIONS
from vanban.archive.domain import service
from vanban.archive.domain.keeping import FixityResult, ObjectReader
from vanban.archive.domain.model import Content
from vanban.launcher.infra.seaweed import SeaweedServer
from vanban.launcher.infra.seaweed_damage import corrupt_stored_object
from vanban.platform.db import UnitOfWork, create_engine, session_factory
from vanban.platform.errors import UnavailableError
from vanban.platform.migrations import upgrade_async


class Failures(FixityAlarm):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[FixityResult] = []

    def failed(self, result: FixityResult) -> None:
        super().failed(result)
        self.seen.append(result)


@pytest.fixture
async def engine(make_database: Callable[..., str]) -> AsyncIterator[AsyncEngine]:
    url = make_database("archive_jobs")
    await upgrade_async(url, MIGRATIONS)
    made = create_engine(url, pool_size=2)
    yield made
    await made.dispose()


@pytest.fixture
async def store(s3_server: SeaweedServer) -> S3ObjectStore:
    made = S3ObjectStore.connect(
        endpoint=s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        secure=False,
        bucket=f"vanban-jobs-{secrets.token_hex(6)}",
    )
    await made.ensure_bucket()
    return made


async def keep(
    uow_factory: Callable[[], UnitOfWork], store: S3ObjectStore, data: bytes, tmp: Path
) -> str:
    """Stores the bytes and claims them, as a registration would."""
    spool = tmp / hashlib.sha256(data).hexdigest()
    spool.write_bytes(data)
    transactions = ArchiveTransaction.factory(uow_factory, actor="test")
    now = datetime.now(UTC)
    obj, _, _ = await service.store_object(
        transactions=transactions,
        store=store,
        content=Content(sha256=hashlib.sha256(data).hexdigest(), size=len(data), spool=spool),
        content_type="application/octet-stream",
        uploaded_by="test",
        now=now,
    )
    async with transactions() as tx:
        await service.claim_object(
            tx=tx, sha256=obj.sha256, claimed_by=f"incoming-documents/{obj.sha256[:8]}", now=now
        )
        await tx.commit()
    return obj.sha256


def half_each_run(
    uow: Callable[[], UnitOfWork], store: ObjectReader, alarm: FixityAlarm, *, share: float = 0.5
) -> RecordsJobs:
    """The records' jobs checking half of the kept objects each run (or `share`)."""
    return RecordsJobs(
        uow_factory=uow,
        store=store,
        alarm=alarm,
        timezone=ZoneInfo("Asia/Ho_Chi_Minh"),
        fixity_share=share,
        fixity_interval=3600,
        handover_check_interval=3600,
    )


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


async def test_each_run_checks_its_share_oldest_first_and_reports_a_flipped_byte(
    engine: AsyncEngine, store: S3ObjectStore, s3_server: SeaweedServer, tmp_path: Path
) -> None:
    def uow() -> UnitOfWork:
        return UnitOfWork(session_factory(engine), tables=platform_tables, source="test")

    contents = [os.urandom(96 * 1024) for _ in range(4)]
    kept = [await keep(uow, store, data, tmp_path) for data in contents]
    alarm = Failures()
    jobs = half_each_run(uow, store, alarm)
    first = await jobs.check_fixity()
    second = await jobs.check_fixity()
    # Half of the four each run, and the second run takes the two the first did not.
    assert len(first) == len(second) == 2
    assert {r.sha256 for r in first} | {r.sha256 for r in second} == set(kept)
    assert all(r.ok for r in first + second) and alarm.seen == []

    # Someone edits the bytes on the S3 server's disk, keeping its checksum right: the server
    # serves them, and only our own hash can tell.
    corrupt_stored_object(s3_server.data_dir, contents[1], keep_checksum=True)
    results = await jobs.check_fixity() + await jobs.check_fixity()
    failed = [r for r in results if not r.ok]
    assert [(r.sha256, r.problem) for r in failed] == [(kept[1], "altered")]
    assert [r.sha256 for r in alarm.seen] == [kept[1]]
    assert await rows(
        engine, "select fixity_problem from objects where sha256 = :sha", sha=kept[1]
    ) == [("altered",)]
    assert await rows(
        engine, "select count(*) from outbox where subject = 'vanban.archive.fixity.failed'"
    ) == [(1,)]
    assert await rows(
        engine,
        "select count(*) from audit_log where action = 'object.fixity.failed' "
        "and resource = :resource",
        resource=f"objects/{kept[1]}",
    ) == [(1,)]


async def test_two_replicas_runs_never_check_one_object_together(
    engine: AsyncEngine, store: S3ObjectStore, s3_server: SeaweedServer, tmp_path: Path
) -> None:
    """Two replicas' runs at the same moment: a run still holding its objects makes the other
    take different ones, and a damaged object is reported once, not once per replica."""

    def uow() -> UnitOfWork:
        return UnitOfWork(session_factory(engine), tables=platform_tables, source="test")

    contents = [os.urandom(64 * 1024) for _ in range(4)]
    kept = [await keep(uow, store, data, tmp_path) for data in contents]
    transactions = ArchiveTransaction.factory(uow, actor="test")
    now = datetime.now(UTC)
    # The first run has taken its share and not committed yet when the second asks: the second
    # gets the rest, never the first's.

    async def second_run() -> list[tuple[str, int]]:
        async with transactions() as second:
            taken = await second.claims.claim_fixity_due(share=0.5, maximum=100, now=now)
            await second.commit()
            return taken

    async with transactions() as first:
        mine = await first.claims.claim_fixity_due(share=0.5, maximum=100, now=now)
        later = asyncio.create_task(second_run())
        await asyncio.sleep(0.3)
        await first.commit()
    theirs = await asyncio.wait_for(later, timeout=10)
    assert len(mine) == len(theirs) == 2
    assert {sha for sha, _ in mine} | {sha for sha, _ in theirs} == set(kept)

    corrupt_stored_object(s3_server.data_dir, contents[2], keep_checksum=True)
    alarms = [Failures(), Failures()]
    replicas = [half_each_run(uow, store, alarm) for alarm in alarms]
    runs = await asyncio.gather(*(replica.check_fixity() for replica in replicas))
    checked = [r.sha256 for run in runs for r in run]
    assert sorted(checked) == sorted(kept)  # each once, by one replica or the other
    assert [r.sha256 for alarm in alarms for r in alarm.seen] == [kept[2]]
    assert await rows(
        engine, "select count(*) from outbox where subject = 'vanban.archive.fixity.failed'"
    ) == [(1,)]


class DownAt:
    """The store, unavailable when it comes to one object (a run cut short)."""

    def __init__(self, store: S3ObjectStore, sha256: str) -> None:
        self._store = store
        self._down = sha256

    def read(self, sha256: str) -> AsyncIterator[bytes]:
        if sha256 == self._down:
            raise UnavailableError("the object store does not answer")
        return self._store.read(sha256)

    async def delete(self, sha256: str) -> None:
        await self._store.delete(sha256)


async def test_a_run_cut_short_keeps_what_it_found_and_gives_back_what_it_did_not_read(
    engine: AsyncEngine, store: S3ObjectStore, s3_server: SeaweedServer, tmp_path: Path
) -> None:
    def uow() -> UnitOfWork:
        return UnitOfWork(session_factory(engine), tables=platform_tables, source="test")

    contents = [os.urandom(32 * 1024) for _ in range(4)]
    kept = [await keep(uow, store, data, tmp_path) for data in contents]
    # The run reads in hash order (none checked yet): damage the first, and the store goes
    # away at the second.
    order = sorted(kept)
    damaged = contents[kept.index(order[0])]
    corrupt_stored_object(s3_server.data_dir, damaged, keep_checksum=True)
    alarm = Failures()
    jobs = half_each_run(uow, DownAt(store, order[1]), alarm, share=1.0)
    with pytest.raises(UnavailableError):
        await jobs.check_fixity()
    # What it found is reported; what it did not read is first in line again.
    assert [r.sha256 for r in alarm.seen] == [order[0]]
    assert await rows(
        engine,
        "select sha256, fixity_problem, fixity_checked_at is null from objects order by sha256",
    ) == [
        (order[0], "altered", False),
        (order[1], None, True),
        (order[2], None, True),
        (order[3], None, True),
    ]
