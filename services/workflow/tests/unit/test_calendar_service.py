"""Keeping the working calendar: an administrator replaces a year at once, audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from vanban.platform.caller import Caller
from vanban.platform.clearance import Clearance
from vanban.platform.errors import InvalidArgumentError, PermissionDeniedError
from vanban.platform.fakes import RecordingTransaction
from vanban.workflow.domain.calendar import CalendarDay, WorkCalendar
from vanban.workflow.domain.calendar_service import set_year, year_of


@dataclass
class Days:
    rows: dict[date, CalendarDay] = field(default_factory=dict)

    async def load(self) -> WorkCalendar:
        return WorkCalendar.of(self.rows.values())

    async def year(self, year: int) -> list[CalendarDay]:
        return sorted((d for d in self.rows.values() if d.day.year == year), key=lambda d: d.day)

    async def replace_year(self, year: int, days: Sequence[CalendarDay]) -> None:
        self.rows = {k: v for k, v in self.rows.items() if k.year != year}
        self.rows.update({d.day: d for d in days})


@dataclass
class Reminders:
    """Reminders waiting: task id -> (deadline, when due)."""

    rows: dict[str, tuple[date, datetime]] = field(default_factory=dict)

    async def waiting_reminders(self, first: date, last: date) -> list[tuple[str, date, datetime]]:
        return [(t, d, at) for t, (d, at) in self.rows.items() if first <= d <= last]

    async def move_reminders(self, moved: Sequence[tuple[str, datetime]]) -> None:
        for task_id, at in moved:
            self.rows[task_id] = (self.rows[task_id][0], at)


@dataclass
class Tx(RecordingTransaction):
    calendar: Days = field(default_factory=Days)
    assignments: object = None
    tasks: Reminders = field(default_factory=Reminders)


def caller(*roles: str) -> Caller:
    return Caller(
        agency_code="000.00.00.H99",
        subject="someone",
        roles=frozenset(roles),
        clearance=Clearance.NONE,
    )


VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 12, 1, 9, 0, tzinfo=VIETNAM)
TET = [CalendarDay(date(2025, 1, d), working=False, name="Tết Nguyên đán") for d in (27, 28)]


async def test_an_administrator_replaces_a_year_at_once() -> None:
    tx = Tx()
    tx.calendar.rows[date(2024, 9, 2)] = CalendarDay(date(2024, 9, 2), False, "Quốc khánh")
    await set_year(tx=tx, actor=caller("admin"), year=2025, days=[*TET], now=NOW)  # type: ignore[arg-type]
    shorter = [TET[0]]
    await set_year(tx=tx, actor=caller("admin"), year=2025, days=shorter, now=NOW)  # type: ignore[arg-type]
    assert await year_of(tx=tx, year=2025) == shorter  # type: ignore[arg-type]
    assert date(2024, 9, 2) in tx.calendar.rows, "other years stay"
    assert [a["action"] for a in tx.audits] == ["calendar.set", "calendar.set"]
    assert tx.audits[1]["before"]["days"] == [(d.day.isoformat(), False, d.name) for d in TET]


async def test_only_an_administrator_and_only_valid_days() -> None:
    with pytest.raises(PermissionDeniedError):
        await set_year(tx=Tx(), actor=caller("agency_leader"), year=2025, days=TET, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError) as refused:
        await set_year(tx=Tx(), actor=caller("admin"), year=2026, days=TET, now=NOW)  # type: ignore[arg-type]
    assert refused.value.reason == "INVALID_CALENDAR"
    with pytest.raises(InvalidArgumentError):
        await year_of(tx=Tx(), year=1800)  # type: ignore[arg-type]


async def test_reminders_waiting_move_to_the_working_day_before_on_the_new_calendar() -> None:
    tx = Tx()
    # Deadline Wednesday 29 January 2025: reminded Tuesday 28 on a bare calendar.
    tx.tasks.rows["t1"] = (date(2025, 1, 29), datetime(2025, 1, 28, 8, 0, tzinfo=VIETNAM))
    tx.tasks.rows["t2"] = (date(2025, 3, 5), datetime(2025, 3, 4, 8, 0, tzinfo=VIETNAM))
    await set_year(tx=tx, actor=caller("admin"), year=2025, days=TET, now=NOW)  # type: ignore[arg-type]
    # Monday 27 and Tuesday 28 are Tết now: the reminder moves to Friday 24.
    assert tx.tasks.rows["t1"][1] == datetime(2025, 1, 24, 8, 0, tzinfo=VIETNAM)
    assert tx.tasks.rows["t2"][1] == datetime(2025, 3, 4, 8, 0, tzinfo=VIETNAM)
    assert tx.audits[0]["after"]["reminders_moved"] == 1
