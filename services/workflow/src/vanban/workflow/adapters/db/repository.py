from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.workflow.adapters.db.tables import assignments, tasks
from vanban.workflow.domain.model import Assignment
from vanban.workflow.domain.tasks import Task, TaskState

_OPEN = (TaskState.ASSIGNED.value, TaskState.IN_PROGRESS.value)


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
        if row is None:
            return None
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
        )


class SqlTasks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_all(self, new: Sequence[Task]) -> None:
        if not new:
            return
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
                }
                for t in new
            ],
        )

    async def recall_open(
        self, document_id: str, *, keep_assignment: str, by: str, at: datetime
    ) -> list[str]:
        """Recalls the document's open tasks of every assignment but `keep_assignment` (a new
        assignment replaces the former); the ids recalled."""
        rows = await self._session.execute(
            update(tasks)
            .where(
                tasks.c.document_id == document_id,
                tasks.c.assignment_id != keep_assignment,
                tasks.c.state.in_(_OPEN),
            )
            .values(state=TaskState.RECALLED.value, closed_at=at, closed_by=by)
            .returning(tasks.c.id)
        )
        return [r.id for r in rows]
