"""Live statistics of handling (ADR 0010, 6): of the tasks received in a period, how many were
completed on time, completed late, are in progress, overdue or returned; for the agency (each
document's lead task from the leader's assignment), each unit and each person.

The definitions, one place:
- a task is *received* by its holder in the period when it was created in it (agency time, both
  dates included); tasks taken back (recalled) are not counted anywhere;
- *completed on time*: completed on or before its deadline's day (or it has none); *late*: after;
- *in progress*: open (assigned or in progress) and its deadline is today or later, or none;
- *overdue*: open and its deadline passed (before today);
- *returned*: given back by its holder.
So received = on time + late + in progress + overdue + returned, in every row.

Who sees what: the agency's leaders everything; a unit's head or deputy their unit and the units
below it, and the people whose tasks came from those units; anyone else their own row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol

from vanban.platform.errors import PermissionDeniedError, invalid_fields
from vanban.workflow.domain.ports import Acting
from vanban.workflow.domain.service import LEADER_ROLES
from vanban.workflow.domain.tasks import Organisation, Task

PERIOD_MAX_DAYS = 400


@dataclass(frozen=True, slots=True)
class Counts:
    received: int = 0
    completed_on_time: int = 0
    completed_late: int = 0
    in_progress: int = 0
    overdue: int = 0
    returned: int = 0


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date

    def bounds(self, tz: object) -> tuple[datetime, datetime]:
        """[start, end) as aware instants: the first day's midnight to the day after the last."""
        start = datetime.combine(self.first, time(), tzinfo=tz)  # type: ignore[arg-type]
        end = datetime.combine(self.last + timedelta(days=1), time(), tzinfo=tz)  # type: ignore[arg-type]
        return start, end


@dataclass(frozen=True, slots=True)
class Scope:
    """What the statistics cover: everything (`agency`), the units named (and the people whose
    tasks came from them), or one person."""

    agency: bool
    units: tuple[str, ...] | None  # None: every unit
    person: str | None


@dataclass(frozen=True, slots=True)
class Stats:
    period: Period
    today: date
    agency: Counts | None
    units: dict[str, Counts] = field(default_factory=dict)
    people: dict[str, Counts] = field(default_factory=dict)


class StatsRepository(Protocol):
    async def counts(
        self, *, start: datetime, end: datetime, today: date, tz: str, scope: Scope
    ) -> tuple[Counts | None, dict[str, Counts], dict[str, Counts]]: ...

    async def overdue(
        self,
        *,
        today: date,
        scope: Scope,
        secrecies: Sequence[str],
        after: tuple[date, str] | None,
        limit: int,
    ) -> list[Task]:
        """Open tasks past their deadline, within `scope`, of documents whose secrecy (as
        assigned) is one of `secrecies`."""


def period_of(first: str, last: str, *, today: date) -> Period:
    """The period asked for (YYYY-MM-DD, both included); the current month when both are
    empty."""
    try:
        start = date.fromisoformat(first) if first else today.replace(day=1)
        if not 2000 <= start.year <= 2200:
            raise ValueError("out of range")
        if last:
            end = date.fromisoformat(last)
        else:
            next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
            end = next_month - timedelta(days=1)
    except (ValueError, OverflowError):
        raise invalid_fields(
            {"from": "dates are YYYY-MM-DD, years 2000-2200"}, reason="INVALID_STATS_QUERY"
        ) from None
    if end < start or (end - start).days >= PERIOD_MAX_DAYS or not 2000 <= start.year <= 2200:
        raise invalid_fields(
            {"to": f"from ≤ to, at most {PERIOD_MAX_DAYS} days"}, reason="INVALID_STATS_QUERY"
        )
    return Period(start, end)


def scope_of(actor: Acting, org: Organisation, *, unit: str, person: str) -> Scope:
    """The scope asked for, if the caller may see it (STATS_NOT_ALLOWED otherwise)."""
    me = actor.subject
    leader = bool(actor.roles & LEADER_ROLES)
    if person:
        if person != me and not leader:
            raise PermissionDeniedError(
                "another person's statistics are their leaders'", reason="STATS_NOT_ALLOWED"
            )
        return Scope(agency=False, units=(), person=person)
    if unit:
        if unit not in org.units:
            raise invalid_fields({"unit": "no such unit"}, reason="INVALID_STATS_QUERY")
        led = [u for u in org.units if org.leads(me, u)]
        if not leader and not any(org.within(unit, top) for top in led):
            raise PermissionDeniedError(
                "a unit's statistics are for its head, its deputies and the agency's leaders",
                reason="STATS_NOT_ALLOWED",
            )
        below = tuple(u for u in org.units if org.within(u, unit))
        return Scope(agency=False, units=below, person=None)
    if leader:
        return Scope(agency=True, units=None, person=None)
    return Scope(agency=False, units=(), person=me)


async def statistics(
    *,
    repository: StatsRepository,
    actor: Acting,
    org: Organisation,
    first: str,
    last: str,
    unit: str,
    person: str,
    now: datetime,
    tz_name: str,
) -> Stats:
    today = now.date()
    period = period_of(first, last, today=today)
    scope = scope_of(actor, org, unit=unit.strip(), person=person.strip())
    start, end = period.bounds(now.tzinfo)
    agency, units, people = await repository.counts(
        start=start, end=end, today=today, tz=tz_name, scope=scope
    )
    return Stats(period=period, today=today, agency=agency, units=units, people=people)


async def overdue_tasks(
    *,
    repository: StatsRepository,
    actor: Acting,
    org: Organisation,
    unit: str,
    person: str,
    after: tuple[date, str] | None,
    size: int,
    now: datetime,
) -> Sequence[Task]:
    """The open tasks past their deadline within the caller's scope, the longest overdue first;
    only of documents the caller is cleared for (a task names its document, its notes and
    results)."""
    scope = scope_of(actor, org, unit=unit.strip(), person=person.strip())
    secrecies = [level.value for level in actor.clearance.levels_covered()]
    return await repository.overdue(
        today=now.date(), scope=scope, secrecies=secrecies, after=after, limit=size
    )
