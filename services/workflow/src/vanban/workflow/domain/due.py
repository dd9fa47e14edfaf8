"""When a task's reminder and its overdue notice fall due (ADR 0010, 3)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from vanban.workflow.domain.calendar import WorkCalendar

# The reminder's hour on the working day before the deadline, Vietnam time.
REMINDER_AT = time(8, 0)


class DueKind(enum.Enum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Due:
    task_id: str
    kind: DueKind
    at: datetime


def previous_working_day(calendar: WorkCalendar, day: date) -> date:
    day -= timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def reminder_at(calendar: WorkCalendar, deadline: date, tz: tzinfo) -> datetime:
    """08:00 on the working day before the deadline."""
    return datetime.combine(previous_working_day(calendar, deadline), REMINDER_AT, tz)


def due_for(
    *, task_id: str, deadline: date, calendar: WorkCalendar, tz: tzinfo, now: datetime
) -> list[Due]:
    """The reminder at 08:00 on the working day before the deadline (none when that is past
    already), and the overdue notice when the deadline's day has ended."""
    soon = reminder_at(calendar, deadline, tz)
    overdue = datetime.combine(deadline + timedelta(days=1), time(0, 0), tz)
    out = [] if soon <= now else [Due(task_id, DueKind.DUE_SOON, soon)]
    return [*out, Due(task_id, DueKind.OVERDUE, overdue)]
