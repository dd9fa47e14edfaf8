from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.workflow.adapters.db.tables import assignments
from vanban.workflow.domain.model import Assignment


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
