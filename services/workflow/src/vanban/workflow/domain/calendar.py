"""Working days (ngày làm việc): Monday to Friday, less public holidays, plus the Saturdays worked
in their place; deadlines counted on them (ADR 0010, 2).

The exceptions are data per year (`calendar_days`), edited by an administrator; nothing here knows a
holiday by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

from vanban.platform.errors import invalid_fields

# Far enough for any deadline a person sets; a count beyond it is a typing slip, not a plan.
WORKING_DAYS_MAX = 365
NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """An exception to Monday-Friday: a day off on a weekday (a holiday) or a weekend day worked."""

    day: date
    working: bool
    name: str = ""


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    days: dict[date, CalendarDay] = field(default_factory=dict)
    # Years whose exceptions were entered: elsewhere the calendar knows Monday-Friday only.
    years: frozenset[int] = frozenset()

    @classmethod
    def of(cls, days: Iterable[CalendarDay], years: Iterable[int] = ()) -> WorkCalendar:
        by_day = {d.day: d for d in days}
        return cls(days=by_day, years=frozenset(years) | {d.year for d in by_day})

    def is_working_day(self, day: date) -> bool:
        exception = self.days.get(day)
        if exception is not None:
            return exception.working
        return day.weekday() < 5

    def knows(self, year: int) -> bool:
        """Whether the year's holidays were entered (else only weekends are days off)."""
        return year in self.years

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the first after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`th working day after `start` (`start` itself is not counted: a task assigned
        on Friday with 1 working day is due on Monday). 0: the first working day from `start`
        on (the same day when it is one: hỏa tốc)."""
        if count < 0 or count > WORKING_DAYS_MAX:
            raise ValueError(f"working days must be 0..{WORKING_DAYS_MAX}")
        if count == 0:
            return self.next_working_day(start)
        day = start
        while count:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when `end` <= `start`): how
        many working days late a task finished on `end` with deadline `start` is."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def validated_year(year: int, days: Iterable[CalendarDay]) -> list[CalendarDay]:
    """A year's exceptions as an administrator sends them: each day in that year, named, once,
    and an exception indeed (a weekday marked working or a weekend day off changes nothing and
    is most likely a slip)."""
    problems: dict[str, str] = {}
    seen: set[date] = set()
    clean: list[CalendarDay] = []
    for i, d in enumerate(days):
        where = f"days[{i}]"
        if d.day.year != year:
            problems[f"{where}.day"] = f"must be a day of {year}"
        elif d.day in seen:
            problems[f"{where}.day"] = "is given twice"
        weekend = d.day.weekday() >= 5
        if d.working != weekend:
            problems[f"{where}.working"] = (
                "a weekend day can only be made a working day"
                if weekend
                else "a weekday can only be made a day off"
            )
        name = d.name.strip()
        if not name or len(name) > NAME_MAX or not name.isprintable():
            problems[f"{where}.name"] = f"is required: 1-{NAME_MAX} printable characters"
        seen.add(d.day)
        clean.append(CalendarDay(day=d.day, working=d.working, name=name))
    if problems:
        raise invalid_fields(problems, reason="INVALID_CALENDAR")
    return sorted(clean, key=lambda d: d.day)


class Priority(Enum):
    """Urgency (độ khẩn) as the documents service names it."""

    NORMAL = "normal"
    URGENT = "urgent"  # khẩn
    VERY_URGENT = "very_urgent"  # thượng khẩn
    FLASH = "flash"  # hỏa tốc


# Working days a task gets when the leader sets no deadline (ADR 0010, 2); an agency may change
# them.
DEFAULT_WORKING_DAYS = {
    Priority.NORMAL: 10,
    Priority.URGENT: 3,
    Priority.VERY_URGENT: 1,
    Priority.FLASH: 0,
}


def default_deadline(
    calendar: WorkCalendar,
    assigned_on: date,
    priority: Priority,
    working_days: Mapping[Priority, int] | None = None,
) -> date:
    days = (working_days or DEFAULT_WORKING_DAYS)[priority]
    return calendar.add_working_days(assigned_on, days)
