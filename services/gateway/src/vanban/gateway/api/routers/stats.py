"""Live statistics of handling (ADR 0010, 6): how many documents arrived, were handled on time or
late, are pending or overdue, by agency, unit and person. Workflow decides what the caller may
see: leaders everything, unit heads their units, anyone else their own tasks."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.tasks import task_out
from vanban.gateway.api.deps import Workflow, allowed
from vanban.gateway.api.openapi import PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.stats import (
    CountsOut,
    PersonCountsOut,
    StatsOut,
    UnitCountsOut,
)
from vanban.gateway.api.schemas.tasks import TasksOut

router = APIRouter(prefix="/v1/stats", tags=["statistics"])

Reader = Annotated[Principal, allowed("stats:read")]
Unit = Annotated[str, Query(max_length=32, description="A unit, with the units below it")]
Person = Annotated[str, Query(max_length=36, description="A person's id")]


def _counts(c: pb.HandlingCounts) -> dict[str, Any]:
    return {
        "received": c.received,
        "completed_on_time": c.completed_on_time,
        "completed_late": c.completed_late,
        "in_progress": c.in_progress,
        "overdue": c.overdue,
        "returned": c.returned,
    }


@router.get(
    "",
    response_model=StatsOut,
    response_model_by_alias=True,
    operation_id="getStats",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_STATS_QUERY", "STATS_NOT_ALLOWED"),
)
async def get_stats(
    principal: Reader,
    workflow: Workflow,
    from_: Annotated[
        date | None, Query(alias="from", description="First day, YYYY-MM-DD; default: the month's")
    ] = None,
    to: Annotated[date | None, Query(description="Last day, included")] = None,
    unit: Unit = "",
    person: Person = "",
) -> StatsOut:
    """Of the tasks received in the period: completed on time, late, in progress, overdue and
    returned; for the agency, each unit and each person, as far as you may see."""
    request = pb.GetStatsRequest(
        to=to.isoformat() if to else "", unit=unit.strip(), person_id=person.strip()
    )
    setattr(request, "from", from_.isoformat() if from_ else "")
    answer = await workflow.stub.GetStats(
        request, metadata=principal.metadata, timeout=workflow.timeout
    )
    return StatsOut.model_validate(
        {
            "from": getattr(answer, "from"),
            "to": answer.to,
            "today": answer.today,
            "agency": CountsOut(**_counts(answer.agency)) if answer.HasField("agency") else None,
            "units": [UnitCountsOut(unit=u.unit, **_counts(u.counts)) for u in answer.units],
            "people": [
                PersonCountsOut(person_id=p.person_id, **_counts(p.counts)) for p in answer.people
            ],
        }
    )


@router.get(
    "/overdue",
    response_model=TasksOut,
    operation_id="listOverdueTasks",
    responses=answers(
        *SCOPED,
        *PARAMETERS,
        *UPSTREAM,
        "INVALID_STATS_QUERY",
        "STATS_NOT_ALLOWED",
        "INVALID_PAGE",
        "INVALID_PAGE_TOKEN",
    ),
)
async def list_overdue(
    principal: Reader,
    workflow: Workflow,
    unit: Unit = "",
    person: Person = "",
    page_size: Annotated[int, Query(ge=0, le=100)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> TasksOut:
    """The open tasks past their deadline that you may see, the longest overdue first."""
    answer = await workflow.stub.ListOverdueTasks(
        pb.ListOverdueTasksRequest(
            unit=unit.strip(), person_id=person.strip(), page_size=page_size, page_token=page_token
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return TasksOut(
        tasks=[task_out(t) for t in answer.tasks], next_page_token=answer.next_page_token or None
    )
