"""Delegations (ủy quyền) between the REST API and the directory contract."""

from __future__ import annotations

from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.gateway.api.schemas.delegations import DelegationIn, DelegationRecordOut
from vanban.platform.convert import from_timestamp, optional_datetime, to_timestamp


def delegation_out(delegation: pb.Delegation) -> DelegationRecordOut:
    return DelegationRecordOut(
        id=delegation.id,
        from_person_id=delegation.from_person_id,
        to_person_id=delegation.to_person_id,
        scope=list(delegation.scope),
        starts_at=from_timestamp(delegation.starts_at),
        ends_at=from_timestamp(delegation.ends_at),
        reason=None if delegation.redacted else delegation.reason,
        created_at=from_timestamp(delegation.created_at),
        created_by=delegation.created_by,
        revoked_at=optional_datetime(delegation, "revoked_at"),
        revoked_by=delegation.revoked_by or None,
        revoke_reason=delegation.revoke_reason or None,
        redacted=delegation.redacted,
    )


def new_delegation(body: DelegationIn) -> pb.Delegation:
    return pb.Delegation(
        from_person_id=str(body.from_person_id),
        to_person_id=str(body.to_person_id),
        scope=body.scope,
        starts_at=to_timestamp(body.starts_at),
        ends_at=to_timestamp(body.ends_at),
        reason=body.reason,
    )
