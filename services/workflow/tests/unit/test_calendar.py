"""Working days: weekends, holidays and the Saturdays worked in their place (ADR 0010, 2)."""

from datetime import date

import pytest

from vanban.platform.errors import InvalidArgumentError
from vanban.workflow.domain.calendar import (
    CalendarDay,
    Priority,
    WorkCalendar,
    default_deadline,
    validated_year,
)

# Tết Ất Tỵ 2025 as the government announced it for civil servants: Saturday 25 January to
# Sunday 2 February off, the weekdays between them holidays; and a Saturday worked in exchange,
# as an agency would enter one.
TET_2025 = [
    CalendarDay(date(2025, 1, d), working=False, name="Tết Nguyên đán") for d in range(27, 32)
]
MAKEUP = CalendarDay(date(2025, 2, 15), working=True, name="Làm bù")
CALENDAR = WorkCalendar.of([*TET_2025, MAKEUP])


def test_a_plain_week_skips_the_weekend() -> None:
    plain = WorkCalendar()
    friday = date(2025, 3, 14)
    assert plain.add_working_days(friday, 1) == date(2025, 3, 17)  # Monday
    assert plain.add_working_days(friday, 5) == date(2025, 3, 21)
    assert plain.add_working_days(date(2025, 3, 15), 1) == date(2025, 3, 17)  # from a Saturday


def test_tet_is_skipped_whole() -> None:
    # Assigned on Friday 24 January with 3 working days: the nine days off pass, then Monday 3,
    # Tuesday 4, Wednesday 5 February.
    assert CALENDAR.add_working_days(date(2025, 1, 24), 3) == date(2025, 2, 5)
    assert CALENDAR.add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)
    assert not CALENDAR.is_working_day(date(2025, 1, 29))
    assert not CALENDAR.is_working_day(date(2025, 2, 1))  # the Saturday in between


def test_a_saturday_worked_counts() -> None:
    # Friday 14 February + 1 working day: Saturday 15 February is worked.
    assert CALENDAR.add_working_days(date(2025, 2, 14), 1) == date(2025, 2, 15)
    assert CALENDAR.add_working_days(date(2025, 2, 14), 2) == date(2025, 2, 17)


def test_flash_is_due_the_same_working_day() -> None:
    assert default_deadline(CALENDAR, date(2025, 3, 14), Priority.FLASH) == date(2025, 3, 14)
    # On a holiday, the first working day after it.
    assert default_deadline(CALENDAR, date(2025, 1, 28), Priority.FLASH) == date(2025, 2, 3)
    assert default_deadline(CALENDAR, date(2025, 1, 24), Priority.URGENT) == date(2025, 2, 5)
    assert default_deadline(CALENDAR, date(2025, 3, 14), Priority.NORMAL) == date(2025, 3, 28)


def test_days_late_are_working_days() -> None:
    # Due Friday 24 January, finished Monday 3 February: one working day late, not ten days.
    assert CALENDAR.working_days_between(date(2025, 1, 24), date(2025, 2, 3)) == 1
    assert CALENDAR.working_days_between(date(2025, 1, 24), date(2025, 1, 24)) == 0
    assert CALENDAR.working_days_between(date(2025, 1, 24), date(2025, 1, 20)) == 0


def test_a_year_without_its_holidays_is_known_to_be_incomplete() -> None:
    assert CALENDAR.knows(2025) and not CALENDAR.knows(2026)


def test_counts_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(date(2025, 1, 1), -1)
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(date(2025, 1, 1), 10_000)


def test_a_year_as_an_administrator_sends_it() -> None:
    days = validated_year(2025, [MAKEUP, *reversed(TET_2025)])
    assert [d.day for d in days] == sorted(d.day for d in [MAKEUP, *TET_2025])
    with pytest.raises(InvalidArgumentError) as refused:
        validated_year(
            2025,
            [
                CalendarDay(date(2026, 1, 1), working=False, name="Tết Dương lịch"),
                CalendarDay(date(2025, 3, 14), working=True, name="a Friday already worked"),
                CalendarDay(date(2025, 3, 15), working=False, name="a Saturday already off"),
                CalendarDay(date(2025, 4, 30), working=False, name=" "),
                CalendarDay(date(2025, 5, 1), working=False, name="Quốc tế lao động"),
                CalendarDay(date(2025, 5, 1), working=False, name="Quốc tế lao động"),
            ],
        )
    fields = {v.field for v in refused.value.violations}
    assert fields == {
        "days[0].day",
        "days[1].working",
        "days[2].working",
        "days[3].name",
        "days[5].day",
    }
    assert refused.value.reason == "INVALID_CALENDAR"
