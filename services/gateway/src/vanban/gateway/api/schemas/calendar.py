"""The working calendar's exceptions (ngày nghỉ lễ, ngày làm bù), ADR 0010."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from vanban.gateway.api.schemas.dates import IsoDate


class CalendarDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    day: IsoDate
    working: bool = Field(description="true: a weekend day worked; false: a weekday off")
    name: str = Field(min_length=1, max_length=200, description="e.g. Tết Nguyên đán")


class CalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[CalendarDayIn] = Field(max_length=366)


class CalendarDayOut(BaseModel):
    day: IsoDate
    working: bool
    name: str


class CalendarOut(BaseModel):
    year: int
    days: list[CalendarDayOut]
    # False when nothing was entered for the year: only weekends are days off then.
    entered: bool
