"""Use cases of the working calendar (ADR 0010, 2): read a year's exceptions; an administrator
replaces them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from vanban.platform.errors import PermissionDeniedError, invalid_fields
from vanban.workflow.domain.calendar import CalendarDay, validated_year
from vanban.workflow.domain.due import reminder_at
from vanban.workflow.domain.ports import Acting, Transaction

ADMIN = "admin"
# The years a calendar can be entered for: the registry's and a few ahead.
YEARS = range(2000, 2101)


def _year(year: int) -> int:
    if year not in YEARS:
        raise invalid_fields(
            {"year": f"must be {YEARS.start}-{YEARS.stop - 1}"}, reason="INVALID_CALENDAR"
        )
    return year


async def year_of(*, tx: Transaction, year: int) -> list[CalendarDay]:
    return await tx.calendar.year(_year(year))


async def set_year(
    *, tx: Transaction, actor: Acting, year: int, days: Sequence[CalendarDay], now: datetime
) -> list[CalendarDay]:
    """Replaces the year's exceptions, all at once (a partial list would leave the rest as they
    were, which nobody reading the request would expect). Deadlines already set stay as they are
    (they are dates); new ones are counted on the new calendar, and the reminders still waiting
    move to the working day before their deadline on it."""
    if ADMIN not in actor.roles:
        raise PermissionDeniedError(
            "the working calendar is kept by an administrator", reason="ROLE_REQUIRED"
        )
    clean = validated_year(_year(year), days)
    before = await tx.calendar.year(year)
    await tx.calendar.replace_year(year, clean)
    calendar = await tx.calendar.load()
    tz = now.tzinfo
    assert tz is not None, "an aware time: the agency's"
    # A deadline early in January has its reminder on the year's last working days.
    waiting = await tx.tasks.waiting_reminders(date(year, 1, 1), date(year + 1, 1, 31))
    moved = [
        (task_id, at)
        for task_id, deadline, was in waiting
        if (at := reminder_at(calendar, deadline, tz)) != was
    ]
    await tx.tasks.move_reminders(moved)
    tx.audit(
        action="calendar.set",
        resource=f"calendar/{year}",
        before={"days": [(d.day.isoformat(), d.working, d.name) for d in before]},
        after={
            "days": [(d.day.isoformat(), d.working, d.name) for d in clean],
            "reminders_moved": len(moved),
        },
    )
    await tx.commit()
    return clean
