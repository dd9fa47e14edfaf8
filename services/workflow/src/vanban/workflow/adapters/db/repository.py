from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.platform.clearance import Clearance
from vanban.platform.errors import AlreadyExistsError
from vanban.workflow.adapters.db.tables import assignments, calendar_days, task_due, tasks
from vanban.workflow.domain.calendar import CalendarDay, WorkCalendar
from vanban.workflow.domain.due import Due, DueKind
from vanban.workflow.domain.model import Assignment
from vanban.workflow.domain.tasks import OPEN_STATES, Holder, Role, Task, TaskState


class SqlAssignments:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, assignment: Assignment) -> None:
        await self._session.execute(
            insert(assignments).values(
                id=assignment.id,
                document_id=assignment.document_id,
                lead_unit=assignment.lead_unit,
                coordinating_units=list(assignment.coordinating_units),
                informed_units=list(assignment.informed_units),
                lead_person=assignment.lead_person,
                coordinating_people=list(assignment.coordinating_people),
                informed_people=list(assignment.informed_people),
                secrecy=assignment.secrecy.value,
                opinion=assignment.opinion,
                deadline=assignment.deadline,
                assigned_by=assignment.assigned_by,
                on_behalf_of=assignment.on_behalf_of,
                assigned_at=assignment.assigned_at,
            )
        )

    async def current(self, document_id: str) -> Assignment | None:
        row = (
            await self._session.execute(
                select(assignments)
                .where(assignments.c.document_id == document_id)
                .order_by(assignments.c.assigned_at.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else _assignment(row)

    async def get(self, assignment_id: str) -> Assignment | None:
        row = (
            await self._session.execute(
                select(assignments).where(assignments.c.id == assignment_id)
            )
        ).first()
        return None if row is None else _assignment(row)


def _assignment(row: Any) -> Assignment:
    return Assignment(
        id=row.id,
        document_id=row.document_id,
        lead_unit=row.lead_unit,
        coordinating_units=tuple(row.coordinating_units),
        informed_units=tuple(row.informed_units),
        opinion=row.opinion,
        deadline=row.deadline,
        assigned_by=row.assigned_by,
        on_behalf_of=row.on_behalf_of,
        assigned_at=row.assigned_at,
        lead_person=row.lead_person,
        coordinating_people=tuple(row.coordinating_people),
        informed_people=tuple(row.informed_people),
        secrecy=Clearance.parse(row.secrecy) or Clearance.TOP_SECRET,
    )


class SqlTasks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_all(self, new: Sequence[Task]) -> None:
        """Adds the tasks; a holder who already has one in the assignment (a concurrent forward
        got there first: the unique key, not the check before it, is what holds) is refused."""
        if not new:
            return
        try:
            async with self._session.begin_nested():
                await self._insert(new)
        except IntegrityError as error:
            if "uq_tasks_assignment_holder" not in str(error.orig):
                raise
            raise AlreadyExistsError(
                "already sent this document within the assignment",
                reason="ALREADY_ASSIGNED",
            ) from None

    async def _insert(self, new: Sequence[Task]) -> None:
        await self._session.execute(
            insert(tasks),
            [
                {
                    "id": t.id,
                    "assignment_id": t.assignment_id,
                    "document_id": t.document_id,
                    "parent_id": t.parent_id,
                    "role": t.role.value,
                    "holder_unit": t.holder.unit,
                    "holder_person": t.holder.person,
                    "holder_key": t.holder.key,
                    "deadline": t.deadline,
                    "note": t.note,
                    "state": t.state.value,
                    "created_by": t.created_by,
                    "on_behalf_of": t.on_behalf_of,
                    "created_at": t.created_at,
                    "current_lead": t.parent_id is None and t.role is Role.LEAD,
                }
                for t in new
            ],
        )

    async def lock_document(self, document_id: str) -> None:
        await self._session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(document_id, 0)))
        )

    async def schedule(self, dues: Sequence[Due]) -> None:
        if not dues:
            return
        await self._session.execute(
            insert(task_due),
            [{"task_id": d.task_id, "kind": d.kind.value, "due_at": d.at} for d in dues],
        )

    async def waiting_reminders(self, first: date, last: date) -> list[tuple[str, date, datetime]]:
        rows = await self._session.execute(
            select(task_due.c.task_id, tasks.c.deadline, task_due.c.due_at)
            .join(tasks, tasks.c.id == task_due.c.task_id)
            .where(
                task_due.c.kind == DueKind.DUE_SOON.value,
                task_due.c.fired_at.is_(None),
                tasks.c.state.in_(OPEN_STATES),
                tasks.c.deadline.between(first, last),
            )
            .with_for_update(of=task_due, skip_locked=True)
        )
        return [(r.task_id, r.deadline, r.due_at) for r in rows]

    async def move_reminders(self, moved: Sequence[tuple[str, datetime]]) -> None:
        if not moved:
            return
        await self._session.execute(
            update(task_due)
            .where(
                task_due.c.task_id == bindparam("tid"),
                task_due.c.kind == DueKind.DUE_SOON.value,
                task_due.c.fired_at.is_(None),
            )
            .values(due_at=bindparam("at")),
            [{"tid": task_id, "at": at} for task_id, at in moved],
        )

    async def recall_open(
        self, document_id: str, *, keep_assignment: str, by: str, at: datetime
    ) -> list[str]:
        """Recalls the document's open tasks of every assignment but `keep_assignment` (a new
        assignment replaces the former), whose lead task is no longer the document's current
        one; the ids recalled."""
        await self._session.execute(
            update(tasks)
            .where(
                tasks.c.document_id == document_id,
                tasks.c.assignment_id != keep_assignment,
                tasks.c.current_lead,
            )
            .values(current_lead=False)
        )
        rows = await self._session.execute(
            update(tasks)
            .where(
                tasks.c.document_id == document_id,
                tasks.c.assignment_id != keep_assignment,
                tasks.c.state.in_(OPEN_STATES),
            )
            .values(state=TaskState.RECALLED.value, closed_at=at, closed_by=by)
            .returning(tasks.c.id)
        )
        return [r.id for r in rows]

    async def get(self, task_id: str, *, lock: bool) -> Task | None:
        statement = select(tasks).where(tasks.c.id == task_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self._session.execute(statement)).first()
        return None if row is None else task_from_row(row)

    async def tree(self, assignment_id: str) -> list[Task]:
        rows = await self._session.execute(
            select(tasks)
            .where(tasks.c.assignment_id == assignment_id)
            .order_by(tasks.c.created_at, tasks.c.id)
        )
        return [task_from_row(r) for r in rows]

    async def update(self, task: Task) -> None:
        await self._session.execute(
            update(tasks)
            .where(tasks.c.id == task.id)
            .values(
                state=task.state.value,
                result=task.result,
                reply_document_id=task.reply_document_id,
                reason=task.reason,
                closed_at=task.closed_at,
                closed_by=task.closed_by,
            )
        )

    async def held(
        self,
        *,
        person: str,
        units: Sequence[str],
        states: Sequence[TaskState],
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Task]:
        holder = tasks.c.holder_person == person
        if units:
            holder = or_(holder, tasks.c.holder_unit.in_(list(units)))
        statement = select(tasks).where(holder)
        if states:
            statement = statement.where(tasks.c.state.in_([s.value for s in states]))
        if after is not None:
            statement = statement.where(tuple_(tasks.c.created_at, tasks.c.id) < tuple_(*after))
        rows = await self._session.execute(
            statement.order_by(tasks.c.created_at.desc(), tasks.c.id.desc()).limit(limit)
        )
        return [task_from_row(r) for r in rows]


def task_from_row(row: Any) -> Task:
    return Task(
        id=row.id,
        assignment_id=row.assignment_id,
        document_id=row.document_id,
        parent_id=row.parent_id,
        role=Role(row.role),
        holder=Holder(unit=row.holder_unit, person=row.holder_person),
        deadline=row.deadline,
        note=row.note,
        state=TaskState(row.state),
        created_by=row.created_by,
        on_behalf_of=row.on_behalf_of,
        created_at=row.created_at,
        result=row.result,
        reply_document_id=row.reply_document_id,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        reason=row.reason,
    )


class SqlCalendar:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def year(self, year: int) -> list[CalendarDay]:
        rows = await self._session.execute(
            select(calendar_days).where(_in_year(year)).order_by(calendar_days.c.day)
        )
        return [CalendarDay(day=r.day, working=r.working, name=r.name) for r in rows]

    async def replace_year(self, year: int, days: Sequence[CalendarDay]) -> None:
        await self._session.execute(delete(calendar_days).where(_in_year(year)))
        if days:
            await self._session.execute(
                insert(calendar_days),
                [{"day": d.day, "working": d.working, "name": d.name} for d in days],
            )

    async def load(self) -> WorkCalendar:
        rows = await self._session.execute(select(calendar_days))
        return WorkCalendar.of(CalendarDay(day=r.day, working=r.working, name=r.name) for r in rows)


def _in_year(year: int) -> ColumnElement[bool]:
    return calendar_days.c.day.between(date(year, 1, 1), date(year, 12, 31))
