"""Delegations (ủy quyền): one person may act for another, in some actions, for a while.

Handlers only translate REST to directory RPCs and back; the directory authorises (the
delegator for themselves, or an administrator) and decides.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, status
from pydantic import AwareDatetime

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.api.convert.delegations import delegation_out, new_delegation
from vanban.gateway.api.deps import Directory, DirectoryManager, DirectoryReader
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.delegations import (
    DelegationIn,
    DelegationList,
    DelegationRecordOut,
    DelegationRevokeIn,
)
from vanban.platform.convert import to_timestamp

router = APIRouter(prefix="/v1/delegations", tags=["administration"])

MANAGE = (*SCOPED, *UPSTREAM, *BODY, "ROLE_REQUIRED", "NOT_DELEGATOR")
_NEW = {
    "leave": {
        "summary": "A leader on leave hands assigning to a deputy for a week",
        "value": {
            "from_person_id": "7d9f2c1e-4a3b-4c5d-9e8f-0a1b2c3d4e5f",
            "to_person_id": "2b8e4f60-1c2d-4e3f-8a9b-5c6d7e8f9a0b",
            "scope": ["assign"],
            "starts_at": "2026-12-01T00:00:00+07:00",
            "ends_at": "2026-12-08T00:00:00+07:00",
            "reason": "Nghỉ phép",
        },
    }
}
_REVOKE = {"back": {"summary": "The delegator is back", "value": {"reason": "Đã trở lại làm việc"}}}


@router.get(
    "",
    response_model=DelegationList,
    operation_id="listDelegations",
    responses=answers(
        *SCOPED,
        *UPSTREAM,
        *PARAMETERS,
        "INVALID_PERSON_ID",
        "INVALID_INSTANT",
        "INVALID_PAGE_TOKEN",
    ),
)
async def list_delegations(
    principal: DirectoryReader,
    directory: Directory,
    person_id: Annotated[UUID | None, Query(description="From or to this person")] = None,
    active_at: Annotated[
        AwareDatetime | None, Query(description="Only those in force at this instant")
    ] = None,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    page_token: Annotated[str, Query(max_length=512)] = "",
) -> DelegationList:
    """Delegations (ủy quyền), revoked ones included unless `active_at` is given."""
    message = pb.ListDelegationsRequest(
        person_id=str(person_id) if person_id else "", page_size=page_size, page_token=page_token
    )
    if active_at is not None:
        message.active_at.CopyFrom(to_timestamp(active_at))
    answer = await directory.stub.ListDelegations(
        message, metadata=principal.metadata, timeout=directory.timeout
    )
    return DelegationList(
        items=[delegation_out(d) for d in answer.delegations],
        next_page_token=answer.next_page_token or None,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DelegationRecordOut,
    operation_id="createDelegation",
    responses=answers(*MANAGE, "INVALID_DELEGATION", "UNKNOWN_PERSON", "OVERLAPPING_DELEGATION"),
)
async def create_delegation(
    principal: DirectoryManager,
    body: Annotated[DelegationIn, Body(openapi_examples=_NEW)],
    directory: Directory,
) -> DelegationRecordOut:
    """Lets one person act for another (the delegator for themselves, or an administrator)."""
    answer = await directory.stub.CreateDelegation(
        pb.CreateDelegationRequest(delegation=new_delegation(body)),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return delegation_out(answer.delegation)


@router.post(
    "/{delegation_id}/revoke",
    response_model=DelegationRecordOut,
    operation_id="revokeDelegation",
    responses=answers(*MANAGE, "DELEGATION_NOT_FOUND", "DELEGATION_ENDED", "DELEGATION_REVOKED"),
)
async def revoke_delegation(
    principal: DirectoryManager,
    delegation_id: UUID,
    directory: Directory,
    body: Annotated[DelegationRevokeIn | None, Body(openapi_examples=_REVOKE)] = None,
) -> DelegationRecordOut:
    """Ends a delegation now (the delegator or an administrator)."""
    answer = await directory.stub.RevokeDelegation(
        pb.RevokeDelegationRequest(id=str(delegation_id), reason=body.reason if body else ""),
        metadata=principal.metadata,
        timeout=directory.timeout,
    )
    return delegation_out(answer.delegation)
