"""The leader's assignment of an incoming document (phân công xử lý)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response, status

from vanban.contracts.workflow.v1 import workflow_pb2
from vanban.gateway.api.auth import Principal
from vanban.gateway.api.convert.assignments import assign_request, assignment_out
from vanban.gateway.api.deps import Workflow, allowed
from vanban.gateway.api.schemas.assignments import AssignmentIn, AssignmentOut

router = APIRouter(prefix="/v1/incoming-documents", tags=["incoming documents"])


@router.post(
    "/{document_id}/assignment",
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentOut,
    operation_id="assignIncomingDocument",
)
async def assign(
    response: Response,
    # Not granted to API keys; workflow decides who may assign (leaders, their delegates).
    principal: Annotated[Principal, allowed("incoming:assign")],
    document_id: UUID,
    body: AssignmentIn,
    workflow: Workflow,
) -> AssignmentOut:
    """A leader (or their delegate, with `on_behalf_of`) assigns the document to units."""
    answer = await workflow.stub.AssignIncomingDocument(
        assign_request(str(document_id), body),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    response.headers["Location"] = f"/v1/incoming-documents/{document_id}/assignment"
    return assignment_out(answer.assignment)


@router.get("/{document_id}/assignment", response_model=AssignmentOut, operation_id="getAssignment")
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
