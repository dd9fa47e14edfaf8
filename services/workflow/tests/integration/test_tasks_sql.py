"""The task store on real PostgreSQL: the once-per-assignment key under concurrent forwards,
sending again after a recall, a reassignment's recall, and paging the caller's tasks."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from vanban.platform.db import UnitOfWork, session_factory
from vanban.platform.errors import AlreadyExistsError
from vanban.platform.migrations import upgrade_async
from vanban.workflow.adapters.db.repository import SqlTasks
from vanban.workflow.adapters.db.tables import assignments, platform_tables
from vanban.workflow.app import MIGRATIONS
from vanban.workflow.domain.tasks import Holder, Role, Task, TaskState

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DOCUMENT = str(uuid.uuid4())


@pytest.fixture
async def engine(make_database: Callable[..., str]) -> AsyncIterator[AsyncEngine]:
    url = make_database("workflow")
    await upgrade_async(url, MIGRATIONS)
    made = create_async_engine(url, pool_size=4)
    try:
        yield made
    finally:
        await made.dispose()


def uow_factory(engine: AsyncEngine) -> Callable[[], UnitOfWork]:
    sessions = session_factory(engine)
    return lambda: UnitOfWork(sessions, tables=platform_tables, source="/agencies/test/workflow")


async def an_assignment(engine: AsyncEngine) -> str:
    assignment = str(uuid.uuid4())
    async with engine.begin() as connection:
        await connection.execute(
            insert(assignments).values(
                id=assignment,
                document_id=DOCUMENT,
                lead_unit="A",
                coordinating_units=[],
                informed_units=[],
                opinion="",
                deadline=None,
                assigned_by="leader",
                on_behalf_of=None,
                assigned_at=NOW,
            )
        )
    return assignment


def task(assignment: str, holder: Holder, parent: str | None = None, **over: object) -> Task:
    values: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "assignment_id": assignment,
        "document_id": DOCUMENT,
        "parent_id": parent,
        "role": Role.LEAD,
        "holder": holder,
        "deadline": None,
        "note": "",
        "state": TaskState.ASSIGNED,
        "created_by": "leader",
        "on_behalf_of": None,
        "created_at": NOW,
    } | over
    return Task(**values)  # type: ignore[arg-type]


async def test_two_forwards_to_one_person_at_once_send_it_once(engine: AsyncEngine) -> None:
    uows = uow_factory(engine)
    assignment = await an_assignment(engine)
    a, b = task(assignment, Holder(unit="A")), task(assignment, Holder(unit="B"))
    async with uows() as uow:
        await SqlTasks(uow.session).add_all([a, b])
        await uow.commit()
    both_in = asyncio.Event()

    async def forward(parent: str) -> str:
        async with uows() as uow:
            await SqlTasks(uow.session).add_all([task(assignment, Holder(person="p"), parent)])
            await both_in.wait()
            await uow.commit()
        return "sent"

    first = asyncio.create_task(forward(a.id))
    await asyncio.sleep(0.2)  # the first insert holds the key; the second waits on it
    second = asyncio.create_task(forward(b.id))
    await asyncio.sleep(0.2)
    both_in.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert results[0] == "sent"
    assert isinstance(results[1], AlreadyExistsError) and results[1].reason == "ALREADY_ASSIGNED"


async def test_a_recalled_task_may_be_sent_again_and_a_reassignment_recalls(
    engine: AsyncEngine,
) -> None:
    uows = uow_factory(engine)
    assignment = await an_assignment(engine)
    root = task(assignment, Holder(unit="A"))
    first = task(assignment, Holder(person="p"), root.id, state=TaskState.RECALLED)
    async with uows() as uow:
        repo = SqlTasks(uow.session)
        await repo.add_all([root, first])
        await repo.add_all([task(assignment, Holder(person="p"), root.id)])  # sent again
        await uow.commit()
    later = await an_assignment(engine)
    async with uows() as uow:
        repo = SqlTasks(uow.session)
        await repo.lock_document(DOCUMENT)
        recalled = await repo.recall_open(DOCUMENT, keep_assignment=later, by="leader", at=NOW)
        await uow.commit()
    async with uows() as uow:
        states = {t.id: t.state for t in await SqlTasks(uow.session).tree(assignment)}
    assert len(recalled) == 2 and all(states[i] is TaskState.RECALLED for i in recalled)
    assert set(states.values()) == {TaskState.RECALLED}


async def test_the_callers_tasks_a_page_at_a_time(engine: AsyncEngine) -> None:
    uows = uow_factory(engine)
    assignment = await an_assignment(engine)
    mine = [task(assignment, Holder(unit=f"U{i}")) for i in range(5)]  # the same created_at
    others = [task(assignment, Holder(unit="OTHER"))]
    async with uows() as uow:
        await SqlTasks(uow.session).add_all([*mine, *others])
        await uow.commit()
    seen: list[str] = []
    after = None
    async with uows() as uow:
        repo = SqlTasks(uow.session)
        while True:
            page = await repo.held(
                person="nobody", units=[f"U{i}" for i in range(5)], states=[], after=after, limit=3
            )
            seen += [t.id for t in page[:2]]
            if len(page) <= 2:
                break
            after = (page[1].created_at, page[1].id)
    assert sorted(seen) == sorted(t.id for t in mine)
