"""The approval chain of an outgoing document (Decree 30 arts. 10-19; ADR 0010, 5): the steps a
draft passes between the drafter's submission and the clerk's issue, as data per document type.

Pure rules: what a chain may hold, who acts at each step, and what each decision does to the
approval. Numbering (issue) is the documents service's, which asks here whether a draft passed
its chain; the leader's and the agency's signatures are the signing service's.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from vanban.platform.errors import FailedPreconditionError, PermissionDeniedError, invalid_fields
from vanban.workflow.domain.tasks import Organisation
from vanban.workflow.domain.values import CONTROL_RE

COMMENT_MAX = 2000
CHAIN_MAX = 6
DOCUMENT_TYPE_MAX = 100


class Step(enum.Enum):
    """A step of the chain, named by who acts in it."""

    REVIEW = "review"  # the drafting unit's head or a deputy reviews the content
    FORM_CHECK = "form_check"  # a clerk (văn thư) checks the form (thể thức)
    APPROVE = "approve"  # the signer approves the content before signing
    SIGN = "sign"  # the signer signs: their approval, and the leader's signature


# What the demo agencies ship: the drafter submits, the signer signs, the clerk issues.
DEFAULT_CHAIN: tuple[Step, ...] = (Step.SIGN,)
# The chain's order of steps as Decree 30 lists them; a chain keeps it.
_ORDER = {Step.REVIEW: 0, Step.FORM_CHECK: 1, Step.APPROVE: 2, Step.SIGN: 3}


class ApprovalState(enum.Enum):
    PENDING = "pending"  # waiting at steps[position]
    APPROVED = "approved"  # every step passed: the clerk numbers and issues it
    # The documents service asked to number it (at `numbering_since`): a return waits until it
    # is numbered, or until NUMBERING_LEASE has passed (the numbering failed).
    NUMBERING = "numbering"
    RETURNED = "returned"  # back with the drafter, with a comment
    ISSUED = "issued"


# How long a numbering in progress holds off a return: far longer than an issue takes.
NUMBERING_LEASE = timedelta(seconds=60)


class Decision(enum.Enum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SIGNED = "signed"
    RETURNED = "returned"
    ISSUED = "issued"


CLERK = "clerk"


def chain_from(names: Iterable[str]) -> tuple[Step, ...]:
    """A chain from its step names: each step at most once, in the decree's order, ending with
    the signer's signature (numbering follows it, always)."""
    steps: list[Step] = []
    for name in names:
        try:
            steps.append(Step(name))
        except ValueError:
            raise invalid_fields(
                {"steps": f"unknown step {name!r}: one of {', '.join(s.value for s in Step)}"},
                reason="INVALID_CHAIN",
            ) from None
    if not steps or steps[-1] is not Step.SIGN:
        raise invalid_fields({"steps": "a chain ends with 'sign'"}, reason="INVALID_CHAIN")
    if len(set(steps)) != len(steps) or len(steps) > CHAIN_MAX:
        raise invalid_fields({"steps": "each step at most once"}, reason="INVALID_CHAIN")
    if [_ORDER[s] for s in steps] != sorted(_ORDER[s] for s in steps):
        raise invalid_fields(
            {"steps": "steps keep the order review, form_check, approve, sign"},
            reason="INVALID_CHAIN",
        )
    return tuple(steps)


def clean_comment(comment: str, *, required: bool, field: str = "comment") -> str:
    clean = comment.strip()
    if required and not clean:
        raise invalid_fields({field: "is required"}, reason="INVALID_DECISION")
    if len(clean) > COMMENT_MAX or CONTROL_RE.search(clean):
        raise invalid_fields(
            {field: f"at most {COMMENT_MAX} characters, no control characters"},
            reason="INVALID_DECISION",
        )
    return clean


def clean_document_type(name: str) -> str:
    """A chain's document type: a name of the catalogue, or "" for every type without its own."""
    clean = name.strip()
    if len(clean) > DOCUMENT_TYPE_MAX or CONTROL_RE.search(clean):
        raise invalid_fields(
            {"document_type": f"at most {DOCUMENT_TYPE_MAX} characters"}, reason="INVALID_CHAIN"
        )
    return clean


@dataclass(frozen=True, slots=True)
class Approval:
    """One outgoing document's way through its chain. Resubmitting after a return starts the
    chain again (`round` + 1) with the steps it had."""

    id: str
    document_id: str
    document_type: str
    drafting_unit: str
    signer: str
    steps: tuple[Step, ...]
    position: int
    state: ApprovalState
    round: int
    version: int  # the draft's version submitted: what every step approves
    submitted_by: str
    submitted_at: datetime
    updated_at: datetime
    numbering_since: datetime | None = None

    @property
    def step(self) -> Step | None:
        """The step waiting for a decision; None once every step passed (or out of the chain)."""
        if self.state is ApprovalState.PENDING:
            return self.steps[self.position]
        return None

    def may_decide(self, person: str, roles: frozenset[str], org: Organisation) -> bool:
        """Whether `person` acts at the current step (or, once approved, may return it as the
        clerk who would number it)."""
        step = self.step
        if step is Step.REVIEW:
            return org.leads(person, self.drafting_unit)
        if step is Step.FORM_CHECK:
            return CLERK in roles
        if step in (Step.APPROVE, Step.SIGN):
            return person == self.signer
        if self.state in (ApprovalState.APPROVED, ApprovalState.NUMBERING):
            return CLERK in roles
        return False

    @property
    def waiting_for(self) -> str | None:
        """Whose decision it waits for, "person:<id>", "unit:<code>" or "role:clerk"; None once
        returned or issued."""
        if self.state in (ApprovalState.RETURNED, ApprovalState.ISSUED):
            return None
        kind, who = self.asked()
        return f"{kind}:{who}"

    def asked(self) -> tuple[str, str]:
        """Who the current step waits for, as (kind, id): ("person", id), ("unit", code) or
        ("role", "clerk")."""
        step = self.step
        if step is Step.REVIEW:
            return ("unit", self.drafting_unit)
        if step in (Step.APPROVE, Step.SIGN):
            return ("person", self.signer)
        return ("role", CLERK)


@dataclass(frozen=True, slots=True)
class ApprovalAction:
    """One entry of an approval's history: every submission and decision, kept."""

    approval_id: str
    round: int
    step: str  # a Step's value, "submit" or "issue"
    decision: Decision
    actor: str
    on_behalf_of: str | None
    comment: str
    version: int
    at: datetime


def _require_state(approval: Approval, *states: ApprovalState) -> None:
    if approval.state not in states:
        raise FailedPreconditionError(
            f"the approval is {approval.state.value}",
            reason="APPROVAL_CLOSED",
            metadata={"state": approval.state.value},
        )


def resubmitted(
    approval: Approval, *, signer: str, version: int, by: str, at: datetime
) -> Approval:
    """The returned approval submitted again: the chain starts over."""
    _require_state(approval, ApprovalState.RETURNED)
    return replace(
        approval,
        signer=signer,
        position=0,
        state=ApprovalState.PENDING,
        round=approval.round + 1,
        version=version,
        submitted_by=by,
        submitted_at=at,
        updated_at=at,
    )


def decided(
    approval: Approval,
    *,
    person: str,
    roles: frozenset[str],
    org: Organisation,
    signing: bool,
    version: int,
    at: datetime,
) -> Approval:
    """The approval after `person` approves (or, `signing`, signs) the current step."""
    _require_state(approval, ApprovalState.PENDING)
    if not approval.may_decide(person, roles, org):
        raise PermissionDeniedError(
            "this step of the approval is not yours to decide",
            reason="NOT_YOUR_STEP",
            metadata={"step": approval.step.value if approval.step else ""},
        )
    if (approval.step is Step.SIGN) != signing:
        raise FailedPreconditionError(
            "the signer approves this step by signing"
            if approval.step is Step.SIGN
            else "this step is approved, not signed",
            reason="WRONG_STEP",
            metadata={"step": approval.step.value if approval.step else ""},
        )
    _require_version(approval, version)
    position = approval.position + 1
    state = ApprovalState.APPROVED if position == len(approval.steps) else ApprovalState.PENDING
    return replace(approval, position=position, state=state, updated_at=at)


def returned(
    approval: Approval,
    *,
    person: str,
    roles: frozenset[str],
    org: Organisation,
    at: datetime,
) -> Approval:
    """The approval back with the drafter: whoever decides the current step may return it, and
    the clerk may until the draft is numbered."""
    _require_state(approval, ApprovalState.PENDING, ApprovalState.APPROVED, ApprovalState.NUMBERING)
    if not approval.may_decide(person, roles, org):
        raise PermissionDeniedError(
            "this step of the approval is not yours to decide", reason="NOT_YOUR_STEP"
        )
    since = approval.numbering_since
    if approval.state is ApprovalState.NUMBERING and since and at < since + NUMBERING_LEASE:
        raise FailedPreconditionError(
            "the draft is being numbered now: return it, if at all, once that has ended",
            reason="ISSUE_IN_PROGRESS",
        )
    return replace(approval, state=ApprovalState.RETURNED, numbering_since=None, updated_at=at)


def issued(approval: Approval, *, at: datetime) -> Approval | None:
    """The approval once its draft was numbered: issued, whatever it said meanwhile (the
    registry's number is the fact); None when it was recorded already."""
    if approval.state is ApprovalState.ISSUED:
        return None
    return replace(approval, state=ApprovalState.ISSUED, numbering_since=None, updated_at=at)


def _require_version(approval: Approval, version: int) -> None:
    if version != approval.version:
        raise FailedPreconditionError(
            f"the draft changed since it was submitted (version {approval.version}, now "
            f"{version}): return it, and the drafter submits it again",
            reason="DRAFT_CHANGED",
            metadata={"submitted_version": str(approval.version), "version": str(version)},
        )


def numbering(approval: Approval | None, version: int, *, at: datetime) -> Approval:
    """The approval while its draft is numbered: refused unless it passed its chain in the
    version that is current. A numbering that failed may be tried again."""
    if approval is None or approval.state not in (
        ApprovalState.APPROVED,
        ApprovalState.NUMBERING,
    ):
        raise FailedPreconditionError(
            "the draft has not passed its approval chain: submit it, and let the signer sign",
            reason="NOT_APPROVED",
            metadata={"state": approval.state.value if approval else "not_submitted"},
        )
    _require_version(approval, version)
    return replace(approval, state=ApprovalState.NUMBERING, numbering_since=at, updated_at=at)
