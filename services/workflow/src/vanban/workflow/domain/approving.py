"""Use cases of the approval chain (ADR 0010, 5): submit a draft, approve, sign, return, the
clerk's check before numbering, the history, the inbox of approvals waiting for someone, and the
chains per document type. The rules are in `approvals`; here the transaction, the caller's
delegation, the audit and the events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import (
    AbortedError,
    AlreadyExistsError,
    FailedPreconditionError,
    NotFoundError,
    PermissionDeniedError,
    invalid_fields,
)
from vanban.platform.ports import TransactionPort
from vanban.workflow.domain.approvals import (
    DEFAULT_CHAIN,
    Approval,
    ApprovalAction,
    ApprovalState,
    Decision,
    Step,
    chain_from,
    clean_comment,
    clean_document_type,
    decided,
    issued,
    numbering,
    resubmitted,
    returned,
)
from vanban.workflow.domain.ports import Acting
from vanban.workflow.domain.service import LEADER_ROLES
from vanban.workflow.domain.tasks import Organisation
from vanban.workflow.domain.values import id_or_not_found, person_id

# Delegation scopes: a deputy approves (or signs) for the leader whose delegation they hold.
APPROVE = "approve"
SIGN = "sign"
ADMIN = "admin"
PAGE_MAX = 100


@dataclass(frozen=True, slots=True)
class Draft:
    """An outgoing document as the caller reads it from documents."""

    id: str
    is_draft: bool
    document_type: str
    drafting_unit: str
    version: int
    created_by: str
    secrecy: Secrecy


@dataclass(frozen=True, slots=True)
class Person:
    active: bool
    roles: frozenset[str]
    units: frozenset[str]
    clearance: Clearance


class ApprovalPeers(Protocol):
    async def outgoing(self, document_id: str) -> Draft | None:
        """The outgoing document if the caller may open it (asked with their own token)."""

    async def person(self, person_id: str) -> Person | None: ...

    async def organisation(self, *, fresh: bool = False) -> Organisation: ...


class ApprovalRepository(Protocol):
    async def get(self, approval_id: str, *, lock: bool) -> Approval | None: ...

    async def of_document(self, document_id: str, *, lock: bool) -> Approval | None: ...

    async def add(self, approval: Approval, *, secrecy: Secrecy) -> None:
        """Raises AlreadyExistsError (ALREADY_SUBMITTED) when the document has one already."""

    async def update(self, approval: Approval) -> None: ...

    async def add_action(self, action: ApprovalAction) -> None: ...

    async def history(self, approval_id: str) -> list[ApprovalAction]: ...

    async def waiting(
        self,
        *,
        keys: Sequence[str],
        secrecies: Sequence[str],
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Approval]:
        """Pending or approved approvals waiting for one of `keys`, oldest change first."""

    async def chain(self, document_type: str) -> tuple[Step, ...] | None: ...

    async def chains(self) -> dict[str, tuple[Step, ...]]: ...

    async def set_chain(self, document_type: str, steps: tuple[Step, ...], *, by: str) -> None: ...


class ApprovalTransaction(TransactionPort, Protocol):
    @property
    def approvals(self) -> ApprovalRepository: ...

    def act_for(self, person_id: str) -> None: ...

    def record_approval_requested(self, approval: Approval) -> None: ...

    def record_approval_decided(self, approval: Approval, action: ApprovalAction) -> None: ...


@dataclass(frozen=True, slots=True)
class ApprovalView:
    approval: Approval
    history: tuple[ApprovalAction, ...]


def _may_sign(signer: str, person: Person, draft: Draft, org: Organisation) -> bool:
    """The agency's leaders sign anything; a unit's head or deputy signs their unit's drafts
    (thừa lệnh, thừa ủy quyền), and only if they may open them (members of the unit)."""
    if person.roles & LEADER_ROLES:
        return True
    return org.leads(signer, draft.drafting_unit) and draft.drafting_unit in person.units


async def _draft(peers: ApprovalPeers, document_id: str) -> Draft:
    document_id = id_or_not_found(
        document_id, what="outgoing document", reason="OUTGOING_NOT_FOUND"
    )
    draft = await peers.outgoing(document_id)
    if draft is None:
        raise NotFoundError("no outgoing document with this id", reason="OUTGOING_NOT_FOUND")
    return draft


async def submit(
    *,
    tx: ApprovalTransaction,
    peers: ApprovalPeers,
    actor: Acting,
    document_id: str,
    signer: str,
    comment: str,
    now: datetime,
) -> Approval:
    """The drafter (or a colleague of the drafting unit) sends the draft up its chain, naming
    who signs it; a returned draft is sent again the same way."""
    comment = clean_comment(comment, required=False)
    draft = await _draft(peers, document_id)
    if not draft.is_draft:
        raise FailedPreconditionError(
            "the document is no longer a draft", reason="DOCUMENT_NOT_DRAFT"
        )
    if actor.subject != draft.created_by and draft.drafting_unit not in actor.units:
        raise PermissionDeniedError(
            "only the drafter or their unit submits a draft", reason="NOT_THE_DRAFTER"
        )
    signer = person_id(signer)
    person = await peers.person(signer) if signer else None
    org = await peers.organisation()
    if person is None or not person.active or not _may_sign(signer, person, draft, org):
        raise invalid_fields(
            {
                "signer_id": "must be an active leader of the agency, or the head or a deputy "
                "of the drafting unit"
            },
            reason="INVALID_SIGNER",
        )
    if signer in (draft.created_by, actor.subject):
        raise invalid_fields(
            {"signer_id": "nobody signs their own draft or submission"}, reason="INVALID_SIGNER"
        )
    if not person.clearance.covers(draft.secrecy):
        raise invalid_fields(
            {"signer_id": "is not cleared for the draft's secrecy"}, reason="INVALID_SIGNER"
        )
    existing = await tx.approvals.of_document(draft.id, lock=True)
    steps = (
        existing.steps
        if existing is not None
        else (
            await tx.approvals.chain(draft.document_type)
            or await tx.approvals.chain("")
            or DEFAULT_CHAIN
        )
    )
    if Step.REVIEW in steps and draft.drafting_unit not in org.units:
        raise FailedPreconditionError(
            "the draft's chain has a review by the drafting unit's head, and the draft names no "
            "unit of the agency: name its drafting unit first",
            reason="DRAFTING_UNIT_REQUIRED",
        )
    if existing is None:
        approval = Approval(
            id=str(uuid.uuid4()),
            document_id=draft.id,
            document_type=draft.document_type,
            drafting_unit=draft.drafting_unit,
            signer=signer,
            steps=steps,
            position=0,
            state=ApprovalState.PENDING,
            round=1,
            version=draft.version,
            submitted_by=actor.subject,
            submitted_at=now,
            updated_at=now,
        )
        await tx.approvals.add(approval, secrecy=draft.secrecy)
    else:
        if existing.state is not ApprovalState.RETURNED:
            raise AlreadyExistsError(
                f"the draft was submitted already ({existing.state.value})",
                reason="ALREADY_SUBMITTED",
            )
        approval = resubmitted(
            existing, signer=signer, version=draft.version, by=actor.subject, at=now
        )
        await tx.approvals.update(approval)
    action = ApprovalAction(
        approval_id=approval.id,
        round=approval.round,
        step="submit",
        decision=Decision.SUBMITTED,
        actor=actor.subject,
        on_behalf_of=None,
        comment=comment,
        version=approval.version,
        at=now,
    )
    await tx.approvals.add_action(action)
    tx.record_approval_decided(approval, action)
    tx.record_approval_requested(approval)
    tx.audit(
        action="outgoing.submit",
        resource=f"outgoing-documents/{approval.document_id}",
        after={
            "approval_id": approval.id,
            "round": approval.round,
            "signer": signer,
            "steps": [s.value for s in approval.steps],
            "version": approval.version,
        },
    )
    await tx.commit()
    return approval


def _acting_as(
    tx: ApprovalTransaction, actor: Acting, on_behalf_of: str, scope: str, now: datetime
) -> tuple[str, frozenset[str]]:
    """The person deciding, with the roles that count: the caller themself, or the leader whose
    delegation they hold now (their person-bound steps only: review, approve, sign)."""
    if not on_behalf_of or on_behalf_of == actor.subject:
        return actor.subject, actor.roles
    if actor.delegation_from(on_behalf_of, scope, now=now) is None:
        raise PermissionDeniedError(
            f"you hold no delegation in force to {scope} for this person",
            reason="DELEGATION_REQUIRED",
            metadata={"on_behalf_of": on_behalf_of},
        )
    tx.act_for(on_behalf_of)
    return on_behalf_of, frozenset()


async def decide(
    *,
    tx: ApprovalTransaction,
    peers: ApprovalPeers,
    actor: Acting,
    approval_id: str,
    decision: Decision,
    comment: str,
    on_behalf_of: str,
    now: datetime,
    expected_version: int = 0,
    dry_run: bool = False,
) -> Approval:
    """Approves, signs or returns the current step of an approval. Whoever decides must be able
    to open the draft; a return needs its reason. `expected_version` (when given): the version
    the decider read; refused if another was submitted since (a stale page signs nothing).
    `dry_run`: every check, nothing recorded (the signing service asks before it signs)."""
    assert decision in (Decision.APPROVED, Decision.SIGNED, Decision.RETURNED)
    comment = clean_comment(comment, required=decision is Decision.RETURNED)
    approval_id = id_or_not_found(approval_id, what="approval", reason="APPROVAL_NOT_FOUND")
    current = await tx.approvals.get(approval_id, lock=False)
    if current is None:
        raise NotFoundError("no approval with this id", reason="APPROVAL_NOT_FOUND")
    # Asked with the caller's token: a draft they may not open has no approval for them.
    draft = await peers.outgoing(current.document_id)
    if draft is None:
        raise NotFoundError("no approval with this id", reason="APPROVAL_NOT_FOUND")
    if not draft.is_draft and decision is not Decision.RETURNED:
        raise FailedPreconditionError(
            "the document is no longer a draft", reason="DOCUMENT_NOT_DRAFT"
        )
    scope = SIGN if decision is Decision.SIGNED else APPROVE
    person, roles = _acting_as(tx, actor, on_behalf_of, scope, now)
    org = await peers.organisation()
    approval = await tx.approvals.get(approval_id, lock=True)
    assert approval is not None
    if expected_version and expected_version != approval.version:
        raise AbortedError(
            f"version {approval.version} was submitted since you read version {expected_version}",
            reason="VERSION_CONFLICT",
            metadata={"current_version": str(approval.version)},
        )
    if decision is Decision.RETURNED:
        after = returned(approval, person=person, roles=roles, org=org, at=now)
    else:
        after = decided(
            approval,
            person=person,
            roles=roles,
            org=org,
            signing=decision is Decision.SIGNED,
            version=draft.version,
            at=now,
        )
    if dry_run:
        return after
    await tx.approvals.update(after)
    step = approval.step.value if approval.step is not None else "issue"
    action = ApprovalAction(
        approval_id=approval.id,
        round=approval.round,
        step=step,
        decision=decision,
        actor=actor.subject,
        on_behalf_of=person if person != actor.subject else None,
        comment=comment,
        version=draft.version,
        at=now,
    )
    await tx.approvals.add_action(action)
    tx.record_approval_decided(after, action)
    if after.state is ApprovalState.PENDING or after.state is ApprovalState.APPROVED:
        tx.record_approval_requested(after)
    tx.audit(
        action=f"outgoing.approval.{decision.value}",
        resource=f"outgoing-documents/{approval.document_id}",
        before={"state": approval.state.value, "step": step},
        after={
            "approval_id": approval.id,
            "state": after.state.value,
            "step": after.step.value if after.step else None,
            "comment": comment,
        },
    )
    await tx.commit()
    return after


async def sign_document(
    *,
    tx: ApprovalTransaction,
    peers: ApprovalPeers,
    actor: Acting,
    document_id: str,
    comment: str,
    on_behalf_of: str,
    now: datetime,
    expected_version: int = 0,
    dry_run: bool = False,
) -> Approval:
    """The signer signs the draft at the chain's `sign` step: their approval. `dry_run`: the
    checks only, for the signing service before it makes the signature."""
    draft = await _draft(peers, document_id)
    approval = await tx.approvals.of_document(draft.id, lock=False)
    if approval is None:
        raise FailedPreconditionError(
            "the draft was not submitted for approval", reason="NOT_SUBMITTED"
        )
    return await decide(
        tx=tx,
        peers=peers,
        actor=actor,
        approval_id=approval.id,
        decision=Decision.SIGNED,
        comment=comment,
        on_behalf_of=on_behalf_of,
        now=now,
        expected_version=expected_version,
        dry_run=dry_run,
    )


async def view(
    *, tx: ApprovalTransaction, peers: ApprovalPeers, approval_id: str = "", document_id: str = ""
) -> ApprovalView:
    """An approval with its history, for whoever may open the draft."""
    if approval_id:
        approval = await tx.approvals.get(
            id_or_not_found(approval_id, what="approval", reason="APPROVAL_NOT_FOUND"), lock=False
        )
    else:
        approval = await tx.approvals.of_document(
            id_or_not_found(document_id, what="approval", reason="APPROVAL_NOT_FOUND"), lock=False
        )
    if approval is None or await peers.outgoing(approval.document_id) is None:
        raise NotFoundError("no approval with this id", reason="APPROVAL_NOT_FOUND")
    return ApprovalView(approval, tuple(await tx.approvals.history(approval.id)))


async def check_issuable(
    *, tx: ApprovalTransaction, actor: Acting, document_id: str, version: int, now: datetime
) -> None:
    """The documents service asks before numbering: has the draft passed its chain, in this
    version? Asked by services only. A yes holds off returns (the approval is `numbering`)
    until the number is recorded, or for NUMBERING_LEASE if the numbering fails."""
    if not actor.is_service:
        raise PermissionDeniedError("only platform services may call this", reason="SERVICE_ONLY")
    document_id = id_or_not_found(
        document_id, what="outgoing document", reason="OUTGOING_NOT_FOUND"
    )
    approval = await tx.approvals.of_document(document_id, lock=True)
    await tx.approvals.update(numbering(approval, version, at=now))
    await tx.commit()


async def record_issued(
    *, tx: ApprovalTransaction, document_id: str, version: int, by: str, now: datetime
) -> Approval | None:
    """The draft was numbered: its approval is done (an issue reported again changes nothing)."""
    approval = await tx.approvals.of_document(document_id, lock=True)
    after = issued(approval, at=now) if approval is not None else None
    if approval is None or after is None:
        return None
    await tx.approvals.update(after)
    action = ApprovalAction(
        approval_id=approval.id,
        round=approval.round,
        step="issue",
        decision=Decision.ISSUED,
        actor=by,
        on_behalf_of=None,
        comment="",
        version=version,
        at=now,
    )
    await tx.approvals.add_action(action)
    tx.record_approval_decided(after, action)
    tx.audit(
        action="outgoing.approval.issued",
        resource=f"outgoing-documents/{document_id}",
        before={"state": approval.state.value},
        after={"approval_id": approval.id, "state": after.state.value},
    )
    await tx.commit()
    return after


async def waiting_for_me(
    *,
    tx: ApprovalTransaction,
    peers: ApprovalPeers,
    actor: Acting,
    after: tuple[datetime, str] | None,
    size: int,
) -> list[Approval]:
    """The approvals waiting for the caller's decision: theirs to sign or approve, their unit's
    to review, and the clerks' to check or number; of secrecy they are cleared for."""
    me = actor.subject
    keys = [f"person:{me}"]
    if "clerk" in actor.roles:
        keys.append("role:clerk")
    org = await peers.organisation()
    keys += [f"unit:{code}" for code in org.units if org.leads(me, code)]
    secrecies = [level.value for level in actor.clearance.levels_covered()]
    return await tx.approvals.waiting(keys=keys, secrecies=secrecies, after=after, limit=size)


async def list_chains(*, tx: ApprovalTransaction) -> dict[str, tuple[Step, ...]]:
    chains = await tx.approvals.chains()
    chains.setdefault("", DEFAULT_CHAIN)
    return chains


async def set_chain(
    *, tx: ApprovalTransaction, actor: Acting, document_type: str, steps: Sequence[str]
) -> tuple[Step, ...]:
    """The agency's admin sets the chain of a document type ("" for every type without its
    own). Drafts submitted already keep the chain they had."""
    if ADMIN not in actor.roles:
        raise PermissionDeniedError("the chains are the admin's to set", reason="ROLE_REQUIRED")
    document_type = clean_document_type(document_type)
    chain = chain_from(steps)
    before = await tx.approvals.chain(document_type)
    await tx.approvals.set_chain(document_type, chain, by=actor.subject)
    tx.audit(
        action="approval_chain.set",
        resource=f"approval-chains/{document_type or '*'}",
        before={"steps": [s.value for s in before]} if before else None,
        after={"steps": [s.value for s in chain]},
    )
    await tx.commit()
    return chain
