"""Assignments (phân công xử lý) between the REST API and the workflow contract."""

from __future__ import annotations

from datetime import date

from vanban.contracts.workflow.v1 import workflow_pb2
from vanban.gateway.api.schemas.assignments import AssignmentIn, AssignmentOut
from vanban.platform.convert import from_timestamp


def assign_request(
    document_id: str, body: AssignmentIn
) -> workflow_pb2.AssignIncomingDocumentRequest:
    request = workflow_pb2.AssignIncomingDocumentRequest(
        document_id=document_id,
        lead_unit=body.lead_unit or "",
        lead_person=str(body.lead_person) if body.lead_person else "",
        coordinating_units=body.coordinating_units,
        coordinating_people=[str(p) for p in body.coordinating_people],
        informed_units=body.informed_units,
        informed_people=[str(p) for p in body.informed_people],
        opinion=body.opinion,
        deadline=body.deadline.isoformat() if body.deadline else "",
        on_behalf_of=str(body.on_behalf_of) if body.on_behalf_of else "",
    )
    if body.deadline_working_days is not None:
        request.deadline_working_days = body.deadline_working_days
    return request


def assignment_out(a: workflow_pb2.Assignment) -> AssignmentOut:
    return AssignmentOut(
        id=a.id,
        document_id=a.document_id,
        lead_unit=a.lead_unit or None,
        lead_person=a.lead_person or None,
        coordinating_units=list(a.coordinating_units),
        coordinating_people=list(a.coordinating_people),
        informed_units=list(a.informed_units),
        informed_people=list(a.informed_people),
        opinion=a.opinion,
        deadline=date.fromisoformat(a.deadline) if a.deadline else None,
        assigned_by=a.assigned_by,
        on_behalf_of=a.on_behalf_of or None,
        assigned_at=from_timestamp(a.assigned_at),
    )
