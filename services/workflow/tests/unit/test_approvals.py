"""The approval chain's rules (ADR 0010, 5): what a chain may hold, who decides each step, and
what each decision does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vanban.platform.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    PermissionDeniedError,
)
from vanban.workflow.domain.approvals import (
    NUMBERING_LEASE,
    Approval,
    ApprovalState,
    Step,
    chain_from,
    decided,
    issued,
    numbering,
    resubmitted,
    returned,
)
from vanban.workflow.domain.tasks import Organisation, Unit

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
ORG = Organisation(
    units={"VP": Unit("VP", None, head="head", deputies=frozenset({"deputy"}))},
    members={},
)
NONE: frozenset[str] = frozenset()
CLERK = frozenset({"clerk"})


def approval(*steps: Step, **overrides: object) -> Approval:
    values: dict[str, object] = {
        "id": "a1",
        "document_id": "d1",
        "document_type": "Quyết định",
        "drafting_unit": "VP",
        "signer": "leader",
        "steps": steps or (Step.SIGN,),
        "position": 0,
        "state": ApprovalState.PENDING,
        "round": 1,
        "version": 1,
        "submitted_by": "drafter",
        "submitted_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return Approval(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "names",
    [
        [],
        ["review"],
        ["sign", "review"],
        ["review", "review", "sign"],
        ["publish", "sign"],
        # Out of the decree's order, but each once and ending with sign: only the order refuses.
        ["approve", "review", "sign"],
        ["form_check", "review", "sign"],
    ],
)
def test_a_chain_ends_with_sign_keeps_the_decrees_order_and_names_known_steps(
    names: list[str],
) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        chain_from(names)
    assert refused.value.reason == "INVALID_CHAIN"


def test_the_whole_chain_and_the_shortest_are_chains() -> None:
    assert chain_from(["review", "form_check", "approve", "sign"]) == tuple(Step)
    assert chain_from(["sign"]) == (Step.SIGN,)


def _decide(a: Approval, person: str, roles: frozenset[str], *, signing: bool = False) -> Approval:
    return decided(a, person=person, roles=roles, org=ORG, signing=signing, version=1, at=NOW)


def test_each_step_is_decided_by_its_own_people_in_turn() -> None:
    a = approval(*Step)
    # The review: the drafting unit's head or deputy, nobody else.
    for outsider, roles in (("leader", NONE), ("clerk-1", CLERK), ("drafter", NONE)):
        with pytest.raises(PermissionDeniedError):
            _decide(a, outsider, roles)
    a = _decide(a, "deputy", NONE)
    assert a.step is Step.FORM_CHECK
    with pytest.raises(PermissionDeniedError):
        _decide(a, "head", NONE)
    a = _decide(a, "clerk-1", CLERK)
    assert a.step is Step.APPROVE and a.asked() == ("person", "leader")
    with pytest.raises(FailedPreconditionError) as signing_early:
        _decide(a, "leader", NONE, signing=True)
    assert signing_early.value.reason == "WRONG_STEP"
    a = _decide(a, "leader", NONE)
    with pytest.raises(FailedPreconditionError) as approving_a_signature:
        _decide(a, "leader", NONE)
    assert approving_a_signature.value.reason == "WRONG_STEP"
    a = _decide(a, "leader", NONE, signing=True)
    assert (a.state, a.step, a.asked()) == (ApprovalState.APPROVED, None, ("role", "clerk"))
    numbering(a, 1, at=NOW)


def test_a_changed_draft_is_neither_approved_nor_numbered() -> None:
    a = approval()
    with pytest.raises(FailedPreconditionError) as changed:
        decided(a, person="leader", roles=NONE, org=ORG, signing=True, version=2, at=NOW)
    assert changed.value.reason == "DRAFT_CHANGED"
    signed = _decide(a, "leader", NONE, signing=True)
    with pytest.raises(FailedPreconditionError) as late:
        numbering(signed, 2, at=NOW)
    assert late.value.reason == "DRAFT_CHANGED"
    for pending in (None, a):
        with pytest.raises(FailedPreconditionError) as early:
            numbering(pending, 1, at=NOW)
        assert early.value.reason == "NOT_APPROVED"


def test_a_return_goes_to_the_drafter_and_a_resubmission_starts_over() -> None:
    a = _decide(approval(Step.REVIEW, Step.SIGN), "head", NONE)
    with pytest.raises(PermissionDeniedError):
        returned(a, person="head", roles=NONE, org=ORG, at=NOW)  # the signer's step now
    back = returned(a, person="leader", roles=NONE, org=ORG, at=NOW)
    assert back.state is ApprovalState.RETURNED and back.step is None
    with pytest.raises(FailedPreconditionError) as closed:
        _decide(back, "leader", NONE, signing=True)
    assert closed.value.reason == "APPROVAL_CLOSED"
    again = resubmitted(back, signer="leader", version=2, by="drafter", at=NOW)
    assert (again.round, again.position, again.version, again.step) == (2, 0, 2, Step.REVIEW)
    with pytest.raises(FailedPreconditionError):
        resubmitted(again, signer="leader", version=2, by="drafter", at=NOW)


def test_the_clerk_may_return_an_approved_draft_until_it_is_numbered() -> None:
    signed = _decide(approval(), "leader", NONE, signing=True)
    with pytest.raises(PermissionDeniedError):
        returned(signed, person="leader", roles=NONE, org=ORG, at=NOW)
    assert returned(signed, person="c", roles=CLERK, org=ORG, at=NOW).state is (
        ApprovalState.RETURNED
    )
    # Once the registry asked to number it, a return waits: the number is being taken.
    being_numbered = numbering(signed, 1, at=NOW)
    assert being_numbered.state is ApprovalState.NUMBERING
    with pytest.raises(FailedPreconditionError) as busy:
        returned(being_numbered, person="c", roles=CLERK, org=ORG, at=NOW + timedelta(seconds=5))
    assert busy.value.reason == "ISSUE_IN_PROGRESS"
    # A numbering that failed may be tried again, or the draft returned once the lease is over.
    assert numbering(being_numbered, 1, at=NOW).state is ApprovalState.NUMBERING
    later = NOW + NUMBERING_LEASE + timedelta(seconds=1)
    assert returned(being_numbered, person="c", roles=CLERK, org=ORG, at=later).state is (
        ApprovalState.RETURNED
    )
    done = issued(being_numbered, at=NOW)
    assert done is not None and done.state is ApprovalState.ISSUED
    assert issued(done, at=NOW) is None  # reported twice: nothing changes
    with pytest.raises(FailedPreconditionError):
        returned(done, person="c", roles=CLERK, org=ORG, at=NOW)


def test_a_numbered_draft_is_issued_whatever_its_approval_said_meanwhile() -> None:
    # The registry's number is the fact: a return that slipped in is overtaken, not left open.
    back = returned(
        _decide(approval(), "leader", NONE, signing=True), person="c", roles=CLERK, org=ORG, at=NOW
    )
    done = issued(back, at=NOW)
    assert done is not None and done.state is ApprovalState.ISSUED and done.step is None
