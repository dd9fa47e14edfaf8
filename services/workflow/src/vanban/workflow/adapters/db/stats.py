"""Statistics of handling in one statement over the tasks of a period (ADR 0010, 6); the
definitions are in `domain/stats.py`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, bindparam, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.workflow.adapters.db.repository import task_from_row
from vanban.workflow.adapters.db.tables import assignments, tasks
from vanban.workflow.domain.stats import Counts, Scope
from vanban.workflow.domain.tasks import OPEN_STATES, Task

_ARRAY = ARRAY(String(32))

# Every task of the period read once, its outcome computed once (1 on time, 2 late, 3 in
# progress, 4 overdue, 5 returned), and counted by three grouping sets at once: by holding unit,
# by holding person, and whether it is a document's current lead task (the agency's row). The
# parent is joined only for a unit head's view (people are theirs by the unit the task came
# from). {scope} narrows the rows.
_COUNTS = """
SELECT GROUPING(x.u) = 0 AS by_unit, GROUPING(x.p) = 0 AS by_person, x.u, x.p, x.lead,
    count(*) AS received,
    count(*) FILTER (WHERE x.o = 1) AS completed_on_time,
    count(*) FILTER (WHERE x.o = 2) AS completed_late,
    count(*) FILTER (WHERE x.o = 3) AS in_progress,
    count(*) FILTER (WHERE x.o = 4) AS overdue,
    count(*) FILTER (WHERE x.o = 5) AS returned
FROM (
    SELECT t.holder_unit AS u, t.holder_person AS p, t.current_lead AS lead,
        CASE
            WHEN t.state = 'completed' THEN
                CASE WHEN t.deadline IS NULL
                          OR CAST(t.closed_at AT TIME ZONE :tz AS date) <= t.deadline
                     THEN 1 ELSE 2 END
            WHEN t.state IN ('assigned', 'in_progress') THEN
                CASE WHEN t.deadline < :today THEN 4 ELSE 3 END
            WHEN t.state = 'returned' THEN 5
            ELSE 0
        END AS o
    FROM tasks t {join}
    WHERE t.created_at >= :start AND t.created_at < :end AND t.state <> 'recalled' {scope}
) x
GROUP BY GROUPING SETS ((x.u), (x.p), (x.lead))
"""
_FROM_UNITS = "LEFT JOIN tasks parent ON parent.id = t.parent_id"
_IN_UNITS = (
    "AND (t.holder_unit = ANY(:units) "
    "OR (t.holder_person IS NOT NULL AND parent.holder_unit = ANY(:units)))"
)
_OF_PERSON = "AND t.holder_person = :person"


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
        params: dict[str, Any] = {"tz": tz, "start": start, "end": end, "today": today}
        join, narrow = "", ""
        if scope.person is not None:
            narrow, params["person"] = _OF_PERSON, scope.person
        elif scope.units is not None:
            join, narrow = _FROM_UNITS, _IN_UNITS
            params["units"] = list(scope.units)
        statement = text(_COUNTS.format(join=join, scope=narrow))
        if "units" in params:
            statement = statement.bindparams(bindparam("units", type_=_ARRAY))
        # A one-off aggregate: compiling it (JIT) costs more than it saves.
        await self._session.execute(text("SET LOCAL jit = off"))
        rows = await self._session.execute(statement, params)
        agency: Counts | None = Counts() if scope.agency else None
        units: dict[str, Counts] = {}
        people: dict[str, Counts] = {}
        for row in rows:
            if row.by_unit:
                if row.u is not None:
                    units[row.u] = _counts(row)
            elif row.by_person:
                if row.p is not None:
                    people[row.p] = _counts(row)
            elif row.lead and scope.agency:
                agency = _counts(row)
        return agency, units, people

    async def overdue(
        self,
        *,
        today: date,
        scope: Scope,
        secrecies: Sequence[str],
        after: tuple[date, str] | None,
        limit: int,
    ) -> list[Task]:
        t = tasks.c
        cleared = select(assignments.c.id).where(assignments.c.secrecy.in_(list(secrecies)))
        statement = select(tasks).where(
            t.state.in_(OPEN_STATES),
            t.deadline.is_not(None),
            t.deadline < today,
            t.assignment_id.in_(cleared),
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
