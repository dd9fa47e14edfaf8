"""Reminders and overdue notices fire once with several replicas (ADR 0010, 3): real PostgreSQL,
two engines standing for two workflow replicas, firing the same rows at the same time."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from vanban.contracts.workflow.v1 import events_pb2
from vanban.platform.caller import Caller
from vanban.platform.db import UnitOfWork, session_factory
from vanban.platform.migrations import upgrade_async
from vanban.workflow.adapters.db.tables import assignments, platform_tables, task_due, tasks
from vanban.workflow.adapters.due import SUBJECTS, fire_due
from vanban.workflow.adapters.transaction import WorkflowTransaction
from vanban.workflow.app import MIGRATIONS
from vanban.workflow.domain.calendar import CalendarDay
from vanban.workflow.domain.calendar_service import set_year
from vanban.workflow.domain.due import DueKind

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OPEN_TASKS = 150
CLOSED_TASKS = 20


@pytest.fixture
async def engines(make_database: Callable[..., str]) -> AsyncIterator[list[AsyncEngine]]:
    url = make_database("workflow")
    await upgrade_async(url, MIGRATIONS)
    made = [create_async_engine(url, pool_size=4) for _ in range(2)]
    try:
        yield made
    finally:
        for engine in made:
            await engine.dispose()


def replica(engine: AsyncEngine) -> Callable[[], UnitOfWork]:
    sessions = session_factory(engine)
    return lambda: UnitOfWork(sessions, tables=platform_tables, source="/agencies/test/workflow")


async def seed(engine: AsyncEngine) -> tuple[set[str], set[str]]:
    """One assignment's tasks, every one with both notices due already; some closed since."""
    assignment = str(uuid.uuid4())
    rows: list[dict[str, Any]] = []
    for i in range(OPEN_TASKS + CLOSED_TASKS):
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "assignment_id": assignment,
                "document_id": str(uuid.uuid4()),
                "parent_id": None,
                "role": "lead",
                "holder_unit": f"U{i}",
                "holder_person": None,
                "holder_key": f"unit:U{i}",
                "deadline": date(2026, 11, 27),
                "note": "",
                "state": "assigned" if i < OPEN_TASKS else "completed",
                "created_by": "leader" if i % 2 else "deputy",
                # Every other task was given by a deputy acting for the chairman.
                "on_behalf_of": None if i % 2 else "chairman",
                "created_at": NOW - timedelta(days=10),
            }
        )
    async with engine.begin() as connection:
        await connection.execute(
            insert(assignments).values(
                id=assignment,
                document_id=str(uuid.uuid4()),
                lead_unit="U0",
                coordinating_units=[],
                informed_units=[],
                opinion="",
                deadline=date(2026, 11, 27),
                assigned_by="leader",
                on_behalf_of=None,
                assigned_at=NOW - timedelta(days=10),
            )
        )
        await connection.execute(insert(tasks), rows)
        await connection.execute(
            insert(task_due),
            [
                {"task_id": r["id"], "kind": kind.value, "due_at": NOW - timedelta(minutes=i % 50)}
                for i, r in enumerate(rows)
                for kind in DueKind
            ],
        )
    return {r["id"] for r in rows if r["state"] == "assigned"}, {
        r["id"] for r in rows if r["state"] != "assigned"
    }


async def test_two_replicas_fire_every_due_notice_once(engines: list[AsyncEngine]) -> None:
    open_ids, closed_ids = await seed(engines[0])

    async def run(uow_factory: Callable[[], UnitOfWork]) -> int:
        fired = 0
        while taken := await fire_due(uow_factory, NOW):
            fired += taken
        return fired

    # Each replica several loops at once, as a busy deployment would.
    taken = await asyncio.gather(*(run(replica(e)) for e in engines for _ in range(3)))
    assert sum(taken) == 2 * (OPEN_TASKS + CLOSED_TASKS)  # every row taken exactly once
    assert sum(1 for t in taken if t) >= 2, "the work was shared, not done by one"

    async with engines[0].connect() as connection:
        outbox = (
            await connection.execute(
                select(platform_tables.outbox.c.subject, platform_tables.outbox.c.payload)
            )
        ).all()
        waiting = (
            await connection.execute(select(task_due).where(task_due.c.fired_at.is_(None)))
        ).all()
    notices: Counter[tuple[str, str]] = Counter()
    for subject, payload in outbox:
        event = events_pb2.TaskDue.FromString(payload)
        notices[(event.task.id, subject)] += 1
    expected = {(t, SUBJECTS[k]) for t in open_ids for k in DueKind}
    assert set(notices) == expected, "a notice for each open task and kind, none for closed ones"
    assert max(notices.values()) == 1, "never two"
    assert not {t for t, _ in notices} & closed_ids
    assert waiting == []
    # An overdue notice names whom it escalates to: who gave the task, or whom they acted for;
    # a reminder escalates to nobody.
    escalations = {
        (event.task.created_by, event.escalate_to)
        for subject, payload in outbox
        for event in [events_pb2.TaskDue.FromString(payload)]
        if subject == SUBJECTS[DueKind.OVERDUE]
    }
    assert escalations == {("leader", "leader"), ("deputy", "chairman")}
    assert {
        events_pb2.TaskDue.FromString(payload).escalate_to
        for subject, payload in outbox
        if subject == SUBJECTS[DueKind.DUE_SOON]
    } == {""}


async def test_nothing_fires_before_it_is_due(engines: list[AsyncEngine]) -> None:
    await seed(engines[0])
    assert await fire_due(replica(engines[0]), NOW - timedelta(hours=2)) == 0


async def test_a_new_calendar_moves_the_reminders_still_waiting(
    engines: list[AsyncEngine],
) -> None:
    open_ids, closed_ids = await seed(engines[0])
    vietnam = ZoneInfo("Asia/Ho_Chi_Minh")
    # Deadline Friday 27 November 2026: reminded Thursday 26 at 08:00 on a bare calendar.
    async with engines[0].begin() as connection:
        await connection.execute(
            update(task_due)
            .where(task_due.c.kind == "due_soon")
            .values(due_at=datetime(2026, 11, 26, 8, 0, tzinfo=vietnam), fired_at=None)
        )
        fired_one = sorted(open_ids)[0]
        await connection.execute(
            update(task_due)
            .where(task_due.c.task_id == fired_one, task_due.c.kind == "due_soon")
            .values(fired_at=NOW)
        )
    holiday = CalendarDay(date(2026, 11, 26), working=False, name="Ngày nghỉ thử")
    admin = Caller(agency_code="000.00.00.H99", subject="admin", roles=frozenset({"admin"}))
    async with replica(engines[0])() as uow:
        await set_year(
            tx=WorkflowTransaction(uow, actor="admin"),
            actor=admin,
            year=2026,
            days=[holiday],
            now=datetime(2026, 11, 20, 9, 0, tzinfo=vietnam),
        )
    async with engines[0].connect() as connection:
        rows = (
            await connection.execute(
                select(task_due.c.task_id, task_due.c.due_at).where(task_due.c.kind == "due_soon")
            )
        ).all()
    due = {r.task_id: r.due_at for r in rows}
    wednesday = datetime(2026, 11, 25, 8, 0, tzinfo=vietnam)
    thursday = datetime(2026, 11, 26, 8, 0, tzinfo=vietnam)
    # Open tasks' waiting reminders moved to Wednesday; the one sent and the closed tasks' stay.
    assert {t for t, at in due.items() if at == wednesday} == open_ids - {fired_one}
    assert {t for t, at in due.items() if at == thursday} == closed_ids | {fired_one}
