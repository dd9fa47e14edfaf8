"""Approvals between the REST API and the workflow contract."""

from __future__ import annotations

from typing import Any

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.gateway.api.schemas.approvals import (
    ApprovalActionOut,
    ApprovalChainOut,
    ApprovalOut,
    ApprovalViewOut,
)
from vanban.platform.convert import from_timestamp

_STATES = {
    pb.APPROVAL_STATE_PENDING: "pending",
    pb.APPROVAL_STATE_APPROVED: "approved",
    pb.APPROVAL_STATE_RETURNED: "returned",
    pb.APPROVAL_STATE_ISSUED: "issued",
    pb.APPROVAL_STATE_NUMBERING: "numbering",
}


def _fields(a: pb.Approval) -> dict[str, Any]:
    return {
        "id": a.id,
        "document_id": a.document_id,
        "document_type": a.document_type,
        "drafting_unit": a.drafting_unit,
        "signer_id": a.signer_id,
        "steps": list(a.steps),
        "step": a.step or None,
        "state": _STATES[a.state],
        "round": a.round,
        "version": a.version,
        "submitted_by": a.submitted_by,
        "submitted_at": from_timestamp(a.submitted_at),
        "updated_at": from_timestamp(a.updated_at),
        "waiting_for": a.waiting_for or None,
    }


def approval_out(a: pb.Approval) -> ApprovalOut:
    return ApprovalOut(**_fields(a))


def approval_view_out(answer: pb.GetApprovalResponse) -> ApprovalViewOut:
    return ApprovalViewOut(
        **_fields(answer.approval),
        history=[
            ApprovalActionOut(
                round=h.round,
                step=h.step,
                decision=h.decision,
                actor=h.actor,
                on_behalf_of=h.on_behalf_of or None,
                comment=h.comment,
                version=h.version,
                at=from_timestamp(h.at),
            )
            for h in answer.history
        ],
    )


def chain_out(chain: pb.ApprovalChain) -> ApprovalChainOut:
    return ApprovalChainOut(document_type=chain.document_type, steps=list(chain.steps))
