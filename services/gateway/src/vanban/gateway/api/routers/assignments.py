"""The leader's assignment of an incoming document (phân công xử lý)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from vanban.contracts.workflow.v1 import workflow_pb2
from vanban.gateway.api.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/incoming-documents", tags=["incoming documents"])


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lead_unit: str = Field(min_length=1, max_length=32, description="Đơn vị chủ trì")
    coordinating_units: list[str] = Field(default=[], max_length=50, description="Đơn vị phối hợp")
    informed_units: list[str] = Field(default=[], max_length=50, description="Đơn vị để biết")
    opinion: str = Field(default="", max_length=2000, description="Ý kiến chỉ đạo")
    deadline: date | None = Field(default=None, strict=True, description="Thời hạn giải quyết")
    on_behalf_of: UUID | None = Field(
        default=None, description="The leader's person id, when assigning under their delegation"
    )


class AssignmentOut(BaseModel):
    id: str
    document_id: str
    lead_unit: str
    coordinating_units: list[str]
    informed_units: list[str]
    opinion: str
    deadline: date | None
    assigned_by: str
    on_behalf_of: str | None
    assigned_at: datetime


def _out(a: workflow_pb2.Assignment) -> AssignmentOut:
    return AssignmentOut(
        id=a.id,
        document_id=a.document_id,
        lead_unit=a.lead_unit,
        coordinating_units=list(a.coordinating_units),
        informed_units=list(a.informed_units),
        opinion=a.opinion,
        deadline=date.fromisoformat(a.deadline) if a.deadline else None,
        assigned_by=a.assigned_by,
        on_behalf_of=a.on_behalf_of or None,
        assigned_at=a.assigned_at.ToDatetime(tzinfo=UTC),
    )


@router.post(
    "/{document_id}/assignment",
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentOut,
    operation_id="assignIncomingDocument",
)
async def assign(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    document_id: UUID,
    body: AssignmentIn,
) -> AssignmentOut:
    """A leader (or their delegate, with `on_behalf_of`) assigns the document to units."""
    principal.require_scope("incoming:assign")  # not granted to API keys
    up = request.app.state.upstreams
    answer = await up.workflow.AssignIncomingDocument(
        workflow_pb2.AssignIncomingDocumentRequest(
            document_id=str(document_id),
            lead_unit=body.lead_unit,
            coordinating_units=body.coordinating_units,
            informed_units=body.informed_units,
            opinion=body.opinion,
            deadline=body.deadline.isoformat() if body.deadline else "",
            on_behalf_of=str(body.on_behalf_of) if body.on_behalf_of else "",
        ),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    response.headers["Location"] = f"/v1/incoming-documents/{document_id}/assignment"
    return _out(answer.assignment)


@router.get("/{document_id}/assignment", response_model=AssignmentOut, operation_id="getAssignment")
async def get_assignment(
    request: Request, principal: CurrentPrincipal, document_id: UUID
) -> AssignmentOut:
    principal.require_scope("incoming:read")
    up = request.app.state.upstreams
    answer = await up.workflow.GetAssignment(
        workflow_pb2.GetAssignmentRequest(document_id=str(document_id)),
        metadata=principal.metadata,
        timeout=up.timeout,
    )
    return _out(answer.assignment)
