"""Use cases of delegations (ủy quyền): create, revoke, list."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from vanban.directory.domain.access import is_admin
from vanban.directory.domain.delegation import Delegation, DelegationDraft, check_revoke_reason
from vanban.directory.domain.events import DelegationCreated, DelegationRevoked
from vanban.directory.domain.paging import (
    DelegationsPage,
    decode_delegations_page,
    encode_delegations_page,
    page_size,
)
from vanban.directory.domain.ports import Transaction
from vanban.platform.caller import Caller
from vanban.platform.errors import (
    FailedPreconditionError,
    NotFoundError,
    PermissionDeniedError,
    invalid_fields,
)

DEACTIVATION_REASON = "person deactivated"


def _require_delegator_or_admin(caller: Caller, from_person_id: str) -> None:
    if is_admin(caller) or caller.subject == from_person_id:
        return
    raise PermissionDeniedError(
        "only the delegator or an administrator may do this", reason="NOT_DELEGATOR"
    )


def delegation_summary(delegation: Delegation) -> dict[str, object]:
    return {
        "from_person_id": delegation.from_person_id,
        "to_person_id": delegation.to_person_id,
        "scope": sorted(delegation.scope),
        "starts_at": delegation.starts_at.isoformat(),
        "ends_at": delegation.ends_at.isoformat(),
        "reason": delegation.reason,
        "revoked_at": delegation.revoked_at.isoformat() if delegation.revoked_at else None,
        "revoked_by": delegation.revoked_by,
        "revoke_reason": delegation.revoke_reason,
    }


async def create_delegation(
    *, tx: Transaction, caller: Caller, draft: DelegationDraft, now: datetime
) -> Delegation:
    """Lets one active person act for another. Refused when the delegator already has a
    delegation in force at some moment of the new one's dates that shares an action."""
    _require_delegator_or_admin(caller, draft.from_person_id.strip())
    clean = draft.validated(now=now)
    found = await tx.people.get_many([clean.from_person_id, clean.to_person_id])
    problems = {
        name: "no active person has this id"
        for name, person_id in (
            ("from_person_id", clean.from_person_id),
            ("to_person_id", clean.to_person_id),
        )
        if person_id not in found or not found[person_id].active
    }
    if problems:
        raise invalid_fields(problems, reason="UNKNOWN_PERSON")
    assert clean.starts_at is not None and clean.ends_at is not None
    await tx.delegations.lock_delegator(clean.from_person_id)
    existing = await tx.delegations.not_revoked_between(
        clean.from_person_id, starts_at=clean.starts_at, ends_at=clean.ends_at
    )
    conflicts = [d for d in existing if d.conflicts_with(clean)]
    if conflicts:
        first = conflicts[0]
        shared = sorted(first.scope & frozenset(clean.scope))
        raise FailedPreconditionError(
            f"delegation {first.id} already hands {', '.join(shared)} to another person from "
            f"{first.starts_at.isoformat()} to {first.ends_at.isoformat()}",
            reason="OVERLAPPING_DELEGATION",
            metadata={"delegation_ids": ",".join(d.id for d in conflicts)},
        )
    delegation = Delegation(
        id=str(uuid.uuid4()),
        from_person_id=clean.from_person_id,
        to_person_id=clean.to_person_id,
        scope=frozenset(clean.scope),
        starts_at=clean.starts_at,
        ends_at=clean.ends_at,
        reason=clean.reason,
        created_at=now,
        created_by=caller.subject,
    )
    await tx.delegations.add(delegation)
    tx.record(DelegationCreated(delegation=delegation, occurred_at=now))
    tx.audit(
        action="delegation.create",
        resource=f"delegations/{delegation.id}",
        after=delegation_summary(delegation),
    )
    await tx.commit()
    return delegation


async def revoke_delegation(
    *, tx: Transaction, caller: Caller, delegation_id: str, reason: str, now: datetime
) -> Delegation:
    """Ends a delegation now; one already revoked or already over is refused."""
    clean_reason = check_revoke_reason(reason)
    current = await tx.delegations.get(delegation_id.strip(), lock=True)
    if current is None:
        raise NotFoundError("no delegation with this id", reason="DELEGATION_NOT_FOUND")
    _require_delegator_or_admin(caller, current.from_person_id)
    if current.revoked_at is not None:
        raise FailedPreconditionError(
            f"the delegation was already revoked at {current.revoked_at.isoformat()}",
            reason="DELEGATION_REVOKED",
        )
    if current.ends_at <= now:
        raise FailedPreconditionError(
            f"the delegation already ended at {current.ends_at.isoformat()}",
            reason="DELEGATION_ENDED",
        )
    revoked = await _revoke(tx, current, by=caller.subject, reason=clean_reason, now=now)
    await tx.commit()
    return revoked


async def revoke_for_deactivation(
    tx: Transaction, *, person_id: str, by: str, now: datetime
) -> list[Delegation]:
    """A deactivated person neither acts for anyone nor has anyone act for them: their open
    delegations, both ways, are revoked in the caller's transaction."""
    return [
        await _revoke(tx, delegation, by=by, reason=DEACTIVATION_REASON, now=now)
        for delegation in await tx.delegations.open_involving(person_id, now=now)
    ]


async def _revoke(
    tx: Transaction, current: Delegation, *, by: str, reason: str | None, now: datetime
) -> Delegation:
    revoked = replace(current, revoked_at=now, revoked_by=by, revoke_reason=reason)
    await tx.delegations.revoke(revoked)
    tx.record(DelegationRevoked(delegation=revoked, occurred_at=now))
    tx.audit(
        action="delegation.revoke",
        resource=f"delegations/{current.id}",
        before=delegation_summary(current),
        after=delegation_summary(revoked),
    )
    return revoked


async def list_delegations(
    *,
    tx: Transaction,
    person_id: str,
    active_at: datetime | None,
    requested_page_size: int,
    page_token: str,
) -> tuple[list[Delegation], str]:
    """Delegations from or to a person (everyone's when empty), optionally only those active
    at an instant, ordered by start; the token resumes the listing."""
    person = person_id.strip() or None
    if person is not None and len(person) > 36:
        raise invalid_fields({"person_id": "is not a person id"}, reason="INVALID_PERSON_ID")
    if active_at is not None and active_at.tzinfo is None:
        raise invalid_fields({"active_at": "must carry a time zone"}, reason="INVALID_INSTANT")
    filter_key = f"{person or ''}|{active_at.isoformat() if active_at else ''}"
    size = page_size(requested_page_size)
    page = decode_delegations_page(page_token, filter_key=filter_key)
    found = await tx.delegations.list(
        person_id=person,
        active_at=active_at,
        after=(page.after_starts_at, page.after_id) if page else None,
        limit=size + 1,
    )
    if len(found) <= size:
        return found, ""
    found = found[:size]
    last = found[-1]
    token = encode_delegations_page(
        DelegationsPage(after_starts_at=last.starts_at, after_id=last.id, filter_key=filter_key)
    )
    return found, token
