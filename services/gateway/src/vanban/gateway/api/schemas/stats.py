"""Bodies of the handling statistics (ADR 0010, 6)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class CountsOut(BaseModel):
    """Of the tasks received in the period: received = the five outcomes added up."""

    received: int = Field(description="Tiếp nhận")
    completed_on_time: int = Field(description="Hoàn thành đúng hạn")
    completed_late: int = Field(description="Hoàn thành quá hạn")
    in_progress: int = Field(description="Đang xử lý, trong hạn")
    overdue: int = Field(description="Quá hạn, chưa hoàn thành")
    returned: int = Field(description="Trả lại")


class UnitCountsOut(CountsOut):
    unit: str


class PersonCountsOut(CountsOut):
    person_id: str


class StatsOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    # The day "overdue" is counted against (agency time).
    today: date
    # The agency: each document's lead task from the leader's assignment; for leaders only.
    agency: CountsOut | None
    units: list[UnitCountsOut]
    people: list[PersonCountsOut]
