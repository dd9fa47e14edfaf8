"""Statistics of handling in one statement over the tasks of a period (ADR 0010, 6); the
definitions are in `domain/stats.py`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, bindparam, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.workflow.adapters.db.repository import task_from_row
from vanban.workflow.adapters.db.tables import tasks
from vanban.workflow.domain.stats import Counts, Scope
from vanban.workflow.domain.tasks import Task

_OPEN = ("assigned", "in_progress")
_ARRAY = ARRAY(String(32))

# Every row of the period once, then counted by agency (each document's lead task from the
# leader's assignment), by holding unit and by holding person (with the unit their task came
# from, for a unit head's view).
_COUNTS = """
WITH t AS (
    SELECT t.holder_unit, t.holder_person, p.holder_unit AS from_unit, t.state, t.deadline,
           t.parent_id IS NULL AND t.role = 'lead' AS is_root_lead,
           CAST(t.closed_at AT TIME ZONE :tz AS date) AS closed_on
    FROM tasks t LEFT JOIN tasks p ON p.id = t.parent_id
    WHERE t.created_at >= :start AND t.created_at < :end AND t.state <> 'recalled'
), keyed AS (
    SELECT 'agency' AS kind, '' AS key, t.* FROM t WHERE :agency AND is_root_lead
    UNION ALL
    SELECT 'unit', holder_unit, t.* FROM t
    WHERE holder_unit IS NOT NULL AND (:all_units OR holder_unit = ANY(:units))
    UNION ALL
    SELECT 'person', holder_person, t.* FROM t
    WHERE holder_person IS NOT NULL AND CASE WHEN :person <> '' THEN holder_person = :person
                                             ELSE :all_units OR from_unit = ANY(:units) END
)
SELECT kind, key,
    count(*) AS received,
    count(*) FILTER (WHERE state = 'completed'
                     AND (deadline IS NULL OR closed_on <= deadline)) AS completed_on_time,
    count(*) FILTER (WHERE state = 'completed' AND closed_on > deadline) AS completed_late,
    count(*) FILTER (WHERE state IN ('assigned', 'in_progress')
                     AND (deadline IS NULL OR deadline >= :today)) AS in_progress,
    count(*) FILTER (WHERE state IN ('assigned', 'in_progress') AND deadline < :today) AS overdue,
    count(*) FILTER (WHERE state = 'returned') AS returned
FROM keyed GROUP BY kind, key
"""


def _counts(row: Any) -> Counts:
    return Counts(
        received=row.received,
        completed_on_time=row.completed_on_time,
        completed_late=row.completed_late,
        in_progress=row.in_progress,
        overdue=row.overdue,
        returned=row.returned,
    )


class SqlStats:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def counts(
        self, *, start: datetime, end: datetime, today: date, tz: str, scope: Scope
    ) -> tuple[Counts | None, dict[str, Counts], dict[str, Counts]]:
        statement = text(_COUNTS).bindparams(bindparam("units", type_=_ARRAY))
        person_only = scope.person is not None
        rows = await self._session.execute(
            statement,
            {
                "tz": tz,
                "start": start,
                "end": end,
                "today": today,
                "agency": scope.agency,
                "all_units": scope.units is None,
                # A person's own view: no unit rows (the empty list matches none), their row.
                "units": list(scope.units or ()),
                "person": scope.person or "",
            },
        )
        agency: Counts | None = Counts() if scope.agency else None
        units: dict[str, Counts] = {}
        people: dict[str, Counts] = {}
        for row in rows:
            if row.kind == "agency":
                agency = _counts(row)
            elif row.kind == "unit" and not person_only:
                units[row.key] = _counts(row)
            elif row.kind == "person":
                people[row.key] = _counts(row)
        return agency, units, people

    async def overdue(
        self, *, today: date, scope: Scope, after: tuple[date, str] | None, limit: int
    ) -> list[Task]:
        t = tasks.c
        statement = select(tasks).where(
            t.state.in_(_OPEN), t.deadline.is_not(None), t.deadline < today
        )
        if scope.person is not None:
            statement = statement.where(t.holder_person == scope.person)
        elif scope.units is not None:
            parent = tasks.alias("parent")
            from_units = select(parent.c.id).where(parent.c.holder_unit.in_(scope.units))
            statement = statement.where(
                t.holder_unit.in_(scope.units) | t.parent_id.in_(from_units)
            )
        if after is not None:
            statement = statement.where(tuple_(t.deadline, t.id) > tuple_(*after))
        rows = await self._session.execute(statement.order_by(t.deadline, t.id).limit(limit))
        return [task_from_row(r) for r in rows]
