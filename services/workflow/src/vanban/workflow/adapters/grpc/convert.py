from __future__ import annotations

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.platform.convert import to_timestamp
from vanban.workflow.domain.model import Assignment, AssignmentDraft


def draft_from_request(request: pb.AssignIncomingDocumentRequest) -> AssignmentDraft:
    return AssignmentDraft(
        document_id=request.document_id,
        lead_unit=request.lead_unit,
        coordinating_units=tuple(request.coordinating_units),
        informed_units=tuple(request.informed_units),
        opinion=request.opinion,
        deadline=request.deadline,
        on_behalf_of=request.on_behalf_of,
    )


def assignment_to_pb(assignment: Assignment) -> pb.Assignment:
    return pb.Assignment(
        id=assignment.id,
        document_id=assignment.document_id,
        lead_unit=assignment.lead_unit,
        coordinating_units=list(assignment.coordinating_units),
        informed_units=list(assignment.informed_units),
        opinion=assignment.opinion,
        deadline=assignment.deadline.isoformat() if assignment.deadline else "",
        assigned_by=assignment.assigned_by,
        on_behalf_of=assignment.on_behalf_of or "",
        assigned_at=to_timestamp(assignment.assigned_at),
    )
