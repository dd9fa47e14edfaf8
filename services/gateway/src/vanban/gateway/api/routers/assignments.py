"""The leader's assignment of an incoming document (phân công xử lý)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Response, status

from vanban.contracts.workflow.v1 import workflow_pb2
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.assignments import assign_request, assignment_out
from vanban.gateway.api.deps import Workflow, allowed
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.assignments import AssignmentIn, AssignmentOut

router = APIRouter(prefix="/v1/incoming-documents", tags=["incoming documents"])

_ASSIGNMENT = {
    "leader": {
        "summary": "The leader assigns in their own name",
        "value": {
            "lead_unit": "PTH",
            "coordinating_units": ["VP"],
            "informed_units": [],
            "opinion": "Phòng Tổng hợp chủ trì, tham mưu văn bản trả lời trước hạn.",
            "deadline": "2026-12-15",
        },
    },
    "people": {
        "summary": "A person leads, in working days; a colleague coordinates",
        "value": {
            "lead_person": "7d9f2c1e-4a3b-4c5d-9e8f-0a1b2c3d4e5f",
            "coordinating_people": ["3f2b8c1d-5e6a-4b7c-8d9e-0f1a2b3c4d5e"],
            "informed_units": ["VP"],
            "opinion": "Đồng chí Minh chủ trì, báo cáo trong 5 ngày làm việc.",
            "deadline_working_days": 5,
        },
    },
    "delegate": {
        "summary": "A delegate assigns for the leader",
        "value": {
            "lead_unit": "PTH",
            "opinion": "Thừa ủy quyền: Phòng Tổng hợp chủ trì.",
            "on_behalf_of": "7d9f2c1e-4a3b-4c5d-9e8f-0a1b2c3d4e5f",
        },
    },
}


@router.post(
    "/{document_id}/assignment",
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentOut,
    operation_id="assignIncomingDocument",
    responses=answers(
        *SCOPED,
        *BODY,
        *UPSTREAM,
        "ROLE_REQUIRED",
        "DELEGATION_REQUIRED",
        "NOT_A_LEADER",
        "INCOMING_NOT_FOUND",
        "INVALID_ASSIGNMENT",
        "UNKNOWN_UNITS",
        "UNKNOWN_PEOPLE",
    ),
)
async def assign(
    response: Response,
    # Not granted to API keys; workflow decides who may assign (leaders, their delegates).
    principal: Annotated[Principal, allowed("incoming:assign")],
    document_id: UUID,
    body: Annotated[AssignmentIn, Body(openapi_examples=_ASSIGNMENT)],
    workflow: Workflow,
) -> AssignmentOut:
    """A leader (or their delegate, with `on_behalf_of`) assigns the document: one lead (a unit
    or a person), units and people coordinating or informed, one opinion, and a deadline as a
    date or in working days (neither: the default of the document's urgency). Each unit or
    person named gets a task; a unit's sits with its head."""
    answer = await workflow.stub.AssignIncomingDocument(
        assign_request(str(document_id), body),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    response.headers["Location"] = f"/v1/incoming-documents/{document_id}/assignment"
    return assignment_out(answer.assignment)


@router.get(
    "/{document_id}/assignment",
    response_model=AssignmentOut,
    operation_id="getAssignment",
    responses=answers(
        *SCOPED, *PARAMETERS, *UPSTREAM, "INCOMING_NOT_FOUND", "ASSIGNMENT_NOT_FOUND"
    ),
)
async def get_assignment(
    principal: Annotated[Principal, allowed("incoming:read")],
    document_id: UUID,
    workflow: Workflow,
) -> AssignmentOut:
    answer = await workflow.stub.GetAssignment(
        workflow_pb2.GetAssignmentRequest(document_id=str(document_id)),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return assignment_out(answer.assignment)
