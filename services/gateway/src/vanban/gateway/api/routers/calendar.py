"""The working calendar deadlines are counted on (ADR 0010, 2): read by anyone signed in, kept
by an administrator."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Path

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.deps import Workflow, allowed, role
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.calendar import CalendarDayOut, CalendarIn, CalendarOut

router = APIRouter(prefix="/v1/calendar", tags=["calendar"])

Year = Annotated[int, Path(ge=2000, le=2100, description="The calendar year")]

_TET_2025 = {
    "tet": {
        "summary": "Tết Ất Tỵ 2025, and a Saturday worked in exchange",
        "value": {
            "days": [
                *(
                    {"day": f"2025-01-{d}", "working": False, "name": "Tết Nguyên đán"}
                    for d in (27, 28, 29, 30, 31)
                ),
                {"day": "2025-02-15", "working": True, "name": "Làm bù"},
            ]
        },
    }
}


def _out(year: int, days: list[pb.CalendarDay], *, entered: bool) -> CalendarOut:
    return CalendarOut(
        year=year,
        days=[
            CalendarDayOut(day=date.fromisoformat(d.day), working=d.working, name=d.name)
            for d in days
        ],
        entered=entered,
    )


@router.get(
    "/{year}",
    response_model=CalendarOut,
    operation_id="getCalendar",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_CALENDAR"),
)
async def get_calendar(
    principal: Annotated[Principal, allowed("tasks:handle")], year: Year, workflow: Workflow
) -> CalendarOut:
    answer = await workflow.stub.GetCalendar(
        pb.GetCalendarRequest(year=year), metadata=principal.metadata, timeout=workflow.timeout
    )
    return _out(year, list(answer.days), entered=answer.entered)


@router.put(
    "/{year}",
    response_model=CalendarOut,
    operation_id="setCalendar",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, "ROLE_REQUIRED", "INVALID_CALENDAR"),
)
async def set_calendar(
    principal: Annotated[Principal, allowed("tasks:handle", role("admin"))],
    year: Year,
    body: Annotated[CalendarIn, Body(openapi_examples=_TET_2025)],
    workflow: Workflow,
) -> CalendarOut:
    """Replaces the year's exceptions, all at once; deadlines set from now on follow them."""
    answer = await workflow.stub.SetCalendar(
        pb.SetCalendarRequest(
            year=year,
            days=[
                pb.CalendarDay(day=d.day.isoformat(), working=d.working, name=d.name)
                for d in body.days
            ],
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return _out(year, list(answer.days), entered=bool(answer.days))
