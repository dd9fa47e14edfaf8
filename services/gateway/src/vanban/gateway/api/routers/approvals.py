"""The approval chain of outgoing documents (ADR 0010, 5): the drafter submits, each step
approves or returns, the signer signs (a digital signature, made by the signing service, ADR
0011), the clerk issues (outgoing_documents.issue). Workflow decides who acts at each step; the
gateway only carries the caller to it."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from uuid import UUID

import grpc
from fastapi import APIRouter, Body, Query

from vanban.contracts.signing.v1 import signing_pb2 as signing_pb
from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.gateway.api.auth import CurrentPrincipal, Principal
from vanban.gateway.api.convert.approvals import approval_out, approval_view_out, chain_out
from vanban.gateway.api.convert.signing import KIND, signature_out
from vanban.gateway.api.deps import Signing, Workflow, allowed, require, role
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.approvals import (
    ApprovalChainIn,
    ApprovalChainOut,
    ApprovalChainsOut,
    ApprovalOut,
    ApprovalsOut,
    ApprovalViewOut,
    DecideIn,
    ReturnIn,
    SubmitIn,
)
from vanban.gateway.api.schemas.signing import SignedOut, SignOutgoingIn
from vanban.platform.errors import invalid_fields

logger = logging.getLogger(__name__)

router = APIRouter(tags=["approvals"])

Approver = Annotated[Principal, allowed("outgoing:approve")]
_DECIDING = (
    "APPROVAL_NOT_FOUND",
    "APPROVAL_CLOSED",
    "NOT_YOUR_STEP",
    "DELEGATION_REQUIRED",
    "INVALID_DECISION",
)
# The leader signs at the draft's sign step, as the approvers do; the agency signature is the
# clerk's (văn thư), who issues the document. Which applies depends on the body's `kind`, so the
# route checks it once the body is read (`require`).
LEADER_SIGNS = ("outgoing:approve",)
AGENCY_SIGNS = ("outgoing:issue", role("clerk"))
# What the signing service refuses a signature with, besides workflow's refusals it passes on.
SIGNING_REFUSALS = (
    "LEADER_SIGNATURE_REQUIRED",
    "NOT_A_PDF_DOCUMENT",
    "DOCUMENT_NOT_ISSUED",
    "DOCUMENT_ARCHIVED",
    "ALREADY_SIGNED",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_REVOKED",
    "TOKEN_UNAVAILABLE",
)
_SIGN_EXAMPLES: dict[str, Any] = {
    "the leader signs": {
        "value": {"kind": "leader", "comment": "Ký ban hành", "expected_version": 2}
    },
    "the leader, with nothing to add": {"value": {}},
    "the agency signature": {"value": {"kind": "agency"}},
}


def _id(value: UUID | None) -> str:
    return str(value) if value else ""


@router.post(
    "/v1/outgoing-documents/{document_id}/submit",
    response_model=ApprovalOut,
    operation_id="submitOutgoingDocument",
    responses=answers(
        *SCOPED,
        *BODY,
        *UPSTREAM,
        "OUTGOING_NOT_FOUND",
        "DOCUMENT_NOT_DRAFT",
        "DOCUMENT_ARCHIVED",
        "NOT_THE_DRAFTER",
        "INVALID_SIGNER",
        "DRAFTING_UNIT_REQUIRED",
        "ALREADY_SUBMITTED",
        "APPROVAL_CLOSED",
        "INVALID_DECISION",
    ),
)
async def submit(
    principal: Approver,
    document_id: UUID,
    body: Annotated[
        SubmitIn,
        Body(
            openapi_examples={
                "to the chairman": {
                    "value": {
                        "signer_id": "7d9f2c1e-4a3b-4c5d-9e8f-0a1b2c3d4e5f",
                        "comment": "Kính trình đồng chí Chủ tịch ký ban hành.",
                    }
                }
            }
        ),
    ],
    workflow: Workflow,
) -> ApprovalOut:
    """The drafter (or their unit) sends the draft up its chain (trình), naming who signs it;
    a returned draft is submitted again the same way, and the chain starts over."""
    answer = await workflow.stub.SubmitOutgoingDocument(
        pb.SubmitOutgoingDocumentRequest(
            document_id=str(document_id), signer_id=str(body.signer_id), comment=body.comment
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return approval_out(answer.approval)


@router.post(
    "/v1/outgoing-documents/{document_id}/sign",
    response_model=SignedOut,
    operation_id="signOutgoingDocument",
    responses=answers(
        *SCOPED,
        *BODY,
        *UPSTREAM,
        *_DECIDING,
        "ROLE_REQUIRED",
        "OUTGOING_NOT_FOUND",
        "NOT_SUBMITTED",
        "WRONG_STEP",
        "DRAFT_CHANGED",
        "VERSION_CONFLICT",
        "DOCUMENT_NOT_DRAFT",
        "DOCUMENT_ARCHIVED",
        *SIGNING_REFUSALS,
    ),
)
async def sign(
    principal: CurrentPrincipal,
    document_id: UUID,
    signing: Signing,
    workflow: Workflow,
    body: Annotated[SignOutgoingIn | None, Body(openapi_examples=_SIGN_EXAMPLES)] = None,
) -> SignedOut:
    """Signs the document's PDF with a digital signature (chữ ký số, PAdES).

    `leader` (the default): the signer named at submission signs the draft at its chain's last
    step, their signature image between title and name; it is their approval, and the clerk
    then numbers and issues the document. Scope `outgoing:approve`; workflow decides who.

    `agency`: the clerk (văn thư) adds the agency signature to an issued document whose
    leader's signature validates, the seal over the left third of it. Scope `outgoing:issue`
    and the role clerk; the signing service decides too."""
    body = body or SignOutgoingIn()
    leader = body.kind == "leader"
    require(principal, *(LEADER_SIGNS if leader else AGENCY_SIGNS))
    answer = await signing.stub.SignOutgoingDocument(
        signing_pb.SignOutgoingDocumentRequest(
            document_id=str(document_id),
            kind=KIND[body.kind],
            comment=body.comment,
            on_behalf_of=_id(body.on_behalf_of),
            expected_version=body.expected_version or 0,
        ),
        metadata=principal.metadata,
        timeout=signing.timeout,
    )
    signature = signature_out(answer.signature)
    if not leader:
        return SignedOut(signature=signature, approval=None)
    try:
        approval = await workflow.stub.GetApproval(
            pb.GetApprovalRequest(document_id=str(document_id)),
            metadata=principal.metadata,
            timeout=workflow.timeout,
        )
    except grpc.aio.AioRpcError as exc:
        # The signature is made and the approval recorded: an error now would have the signer
        # sign again. The approval is read at `…/approval` once workflow answers.
        logger.warning(
            "the approval could not be read after signing",
            extra={"grpc_code": exc.code().name, "document_id": str(document_id)},
        )
        return SignedOut(signature=signature, approval=None)
    return SignedOut(signature=signature, approval=approval_out(approval.approval))


@router.get(
    "/v1/outgoing-documents/{document_id}/approval",
    response_model=ApprovalViewOut,
    operation_id="getOutgoingApproval",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "APPROVAL_NOT_FOUND"),
)
async def approval_of_document(
    principal: Approver, document_id: UUID, workflow: Workflow
) -> ApprovalViewOut:
    """The draft's approval: where it stands, and every submission and decision."""
    answer = await workflow.stub.GetApproval(
        pb.GetApprovalRequest(document_id=str(document_id)),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return approval_view_out(answer)


@router.get(
    "/v1/approvals",
    response_model=ApprovalsOut,
    operation_id="listApprovals",
    responses=answers(
        *SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_FILTER", "INVALID_PAGE", "INVALID_PAGE_TOKEN"
    ),
)
async def list_approvals(
    principal: Approver,
    workflow: Workflow,
    mine: Annotated[
        bool, Query(description="The approvals waiting for your decision; the only list yet")
    ] = True,
    page_size: Annotated[int, Query(ge=0, le=100)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> ApprovalsOut:
    """The approvals waiting for the caller: drafts to sign or approve, their unit's to
    review, and (clerks) drafts to check or number; oldest change first."""
    if not mine:
        raise invalid_fields(
            {"query.mine": "only the approvals waiting for you can be listed yet"},
            reason="INVALID_FILTER",
        )
    answer = await workflow.stub.ListMyApprovals(
        pb.ListMyApprovalsRequest(page_size=page_size, page_token=page_token),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return ApprovalsOut(
        approvals=[approval_out(a) for a in answer.approvals],
        next_page_token=answer.next_page_token or None,
    )


@router.get(
    "/v1/approvals/{approval_id}",
    response_model=ApprovalViewOut,
    operation_id="getApproval",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "APPROVAL_NOT_FOUND"),
)
async def get_approval(
    principal: Approver, approval_id: UUID, workflow: Workflow
) -> ApprovalViewOut:
    answer = await workflow.stub.GetApproval(
        pb.GetApprovalRequest(id=str(approval_id)),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return approval_view_out(answer)


@router.post(
    "/v1/approvals/{approval_id}/approve",
    response_model=ApprovalOut,
    operation_id="approveStep",
    responses=answers(
        *SCOPED,
        *BODY,
        *UPSTREAM,
        *_DECIDING,
        "WRONG_STEP",
        "DRAFT_CHANGED",
        "VERSION_CONFLICT",
        "DOCUMENT_NOT_DRAFT",
        "DOCUMENT_ARCHIVED",
    ),
)
async def approve(
    principal: Approver,
    approval_id: UUID,
    workflow: Workflow,
    body: Annotated[
        DecideIn | None,
        Body(openapi_examples={"agreed": {"value": {"comment": "Đồng ý trình ký."}}}),
    ] = None,
) -> ApprovalOut:
    """Whoever the current step waits for approves it (review: the drafting unit's head or a
    deputy; form check: a clerk; approve: the signer). A `sign` step is approved by signing."""
    body = body or DecideIn()
    answer = await workflow.stub.ApproveStep(
        pb.ApproveStepRequest(
            approval_id=str(approval_id),
            comment=body.comment,
            on_behalf_of=_id(body.on_behalf_of),
            expected_version=body.expected_version or 0,
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return approval_out(answer.approval)


@router.post(
    "/v1/approvals/{approval_id}/return",
    response_model=ApprovalOut,
    operation_id="returnStep",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, *_DECIDING, "ISSUE_IN_PROGRESS"),
)
async def return_step(
    principal: Approver,
    approval_id: UUID,
    workflow: Workflow,
    body: Annotated[
        ReturnIn,
        Body(openapi_examples={"form": {"value": {"comment": "Sai thể thức trích yếu."}}}),
    ],
) -> ApprovalOut:
    """Back to the drafter with the reason; they revise (a new version) and submit again."""
    answer = await workflow.stub.ReturnStep(
        pb.ReturnStepRequest(
            approval_id=str(approval_id),
            comment=body.comment,
            on_behalf_of=_id(body.on_behalf_of),
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return approval_out(answer.approval)


@router.get(
    "/v1/approval-chains",
    response_model=ApprovalChainsOut,
    operation_id="listApprovalChains",
    responses=answers(*SCOPED, *UPSTREAM),
)
async def list_chains(principal: Approver, workflow: Workflow) -> ApprovalChainsOut:
    """Each document type's chain; the one with an empty type serves every other type."""
    answer = await workflow.stub.ListApprovalChains(
        pb.ListApprovalChainsRequest(), metadata=principal.metadata, timeout=workflow.timeout
    )
    return ApprovalChainsOut(chains=[chain_out(c) for c in answer.chains])


@router.put(
    "/v1/approval-chains",
    response_model=ApprovalChainOut,
    operation_id="setApprovalChain",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, "ROLE_REQUIRED", "INVALID_CHAIN"),
)
async def set_chain(
    principal: Annotated[Principal, allowed("outgoing:approve", role("admin"))],
    workflow: Workflow,
    body: Annotated[
        ApprovalChainIn,
        Body(
            openapi_examples={
                "the whole chain for decisions": {
                    "value": {
                        "document_type": "Quyết định",
                        "steps": ["review", "form_check", "approve", "sign"],
                    }
                }
            }
        ),
    ],
) -> ApprovalChainOut:
    """The admin sets a document type's chain: steps among review, form_check, approve, in
    that order, ending with sign. Drafts submitted already keep theirs."""
    answer = await workflow.stub.SetApprovalChain(
        pb.SetApprovalChainRequest(
            chain=pb.ApprovalChain(document_type=body.document_type, steps=list(body.steps))
        ),
        metadata=principal.metadata,
        timeout=workflow.timeout,
    )
    return chain_out(answer.chain)
