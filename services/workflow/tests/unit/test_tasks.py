"""The task tree's rules: forwarding down one's own subtree, never twice, within the parent's
deadline; only the holder acts; recall and return (ADR 0010, 1)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    PermissionDeniedError,
)
from vanban.workflow.domain.tasks import (
    Forward,
    Holder,
    Organisation,
    Role,
    Target,
    Task,
    TaskState,
    Unit,
    complete,
    forward,
    give_back,
    recall,
    report_progress,
    subtree,
)

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
TODAY = date(2025, 3, 14)
DEADLINE = date(2025, 3, 28)

# UBND above VP, PKT (with PKT1 below it) and PTH.
ORG = Organisation(
    units={
        "UBND": Unit("UBND", None, "chairman"),
        "VP": Unit("VP", "UBND", "vp_head", frozenset({"vp_deputy"})),
        "PKT": Unit("PKT", "UBND", "pkt_head"),
        "PKT1": Unit("PKT1", "PKT", "pkt1_head"),
        "PTH": Unit("PTH", "UBND", "pth_head"),
    },
    members={
        "vp_head": frozenset({"VP"}),
        "vp_deputy": frozenset({"VP"}),
        "vp_specialist": frozenset({"VP"}),
        "pkt_head": frozenset({"PKT"}),
        "pkt_specialist": frozenset({"PKT"}),
        "pkt1_head": frozenset({"PKT1"}),
        "pkt1_specialist": frozenset({"PKT1"}),
        "pth_head": frozenset({"PTH"}),
        "pth_specialist": frozenset({"PTH"}),
    },
    clearances={
        "pkt_specialist": Clearance.NONE,
        "pkt1_specialist": Clearance.CONFIDENTIAL,
        "pth_specialist": Clearance.NONE,
        "vp_specialist": Clearance.NONE,
        "pkt1_head": Clearance.CONFIDENTIAL,
    },
)


def task(
    id: str,
    holder: Holder,
    role: Role = Role.LEAD,
    parent: str | None = None,
    deadline: date | None = DEADLINE,
    state: TaskState = TaskState.ASSIGNED,
) -> Task:
    return Task(
        id=id,
        assignment_id="a1",
        document_id="d1",
        parent_id=parent,
        role=role,
        holder=holder,
        deadline=deadline,
        note="",
        state=state,
        created_by="chairman",
        on_behalf_of=None,
        created_at=NOW,
    )


# The leader's assignment: PKT leads, VP and PTH coordinate.
LEAD = task("t-pkt", Holder(unit="PKT"))
VP = task("t-vp", Holder(unit="VP"), Role.COORDINATING)
PTH = task("t-pth", Holder(unit="PTH"), Role.COORDINATING)
TREE = [LEAD, VP, PTH]


def person(id: str) -> Holder:
    return Holder(person=id)


def test_a_unit_head_forwards_down_their_own_subtree() -> None:
    request = Forward(
        targets=(
            Target(person("pkt_specialist"), Role.LEAD),
            Target(Holder(unit="PKT1"), Role.COORDINATING),
            Target(person("pkt1_specialist"), Role.INFORMED),
        ),
        note="Đồng chí Minh chủ trì, báo cáo trước ngày 25",
        deadline=date(2025, 3, 25),
    )
    targets = forward(
        parent=LEAD, tree=TREE, request=request, actor="pkt_head", org=ORG, today=TODAY
    )
    assert [t.holder.key for t in targets] == [
        "person:pkt_specialist",
        "unit:PKT1",
        "person:pkt1_specialist",
    ]
    # A deputy acts for the unit as its head does.
    forward(
        parent=VP,
        tree=TREE,
        request=Forward(targets=(Target(person("vp_specialist"), Role.LEAD),)),
        actor="vp_deputy",
        org=ORG,
        today=TODAY,
    )


def test_forwarding_outside_the_subtree_is_refused_naming_the_target() -> None:
    request = Forward(
        targets=(
            Target(person("pkt_specialist"), Role.LEAD),
            Target(person("pth_specialist"), Role.COORDINATING),  # another unit's
            Target(Holder(unit="VP"), Role.INFORMED),  # a sibling unit
            Target(Holder(unit="PKT"), Role.INFORMED),  # the unit itself
            Target(Holder(unit="NOPE"), Role.INFORMED),
        )
    )
    with pytest.raises(InvalidArgumentError) as refused:
        forward(parent=LEAD, tree=TREE, request=request, actor="pkt_head", org=ORG, today=TODAY)
    assert {v.field for v in refused.value.violations} == {"to[1]", "to[2]", "to[3]", "to[4]"}
    assert refused.value.reason == "INVALID_FORWARD"


def test_a_sub_deadline_never_passes_the_parents() -> None:
    late = Forward(
        targets=(Target(person("pkt_specialist"), Role.LEAD),), deadline=date(2025, 3, 31)
    )
    with pytest.raises(InvalidArgumentError) as refused:
        forward(parent=LEAD, tree=TREE, request=late, actor="pkt_head", org=ORG, today=TODAY)
    assert [v.field for v in refused.value.violations] == ["deadline"]
    past = Forward(
        targets=(Target(person("pkt_specialist"), Role.LEAD),), deadline=date(2025, 3, 1)
    )
    with pytest.raises(InvalidArgumentError):
        forward(parent=LEAD, tree=TREE, request=past, actor="pkt_head", org=ORG, today=TODAY)


def test_only_the_units_head_or_deputy_forwards_it() -> None:
    request = Forward(targets=(Target(person("pkt1_specialist"), Role.LEAD),))
    for stranger in ("pkt_specialist", "vp_head", "pkt1_head"):
        with pytest.raises(PermissionDeniedError) as refused:
            forward(parent=LEAD, tree=TREE, request=request, actor=stranger, org=ORG, today=TODAY)
        assert refused.value.reason == "TASK_NOT_HELD"


def test_a_document_is_never_sent_twice_within_an_assignment() -> None:
    handed = task("t-spec", person("pkt_specialist"), parent="t-pkt")
    request = Forward(targets=(Target(person("pkt_specialist"), Role.COORDINATING),))
    with pytest.raises(AlreadyExistsError) as refused:
        forward(
            parent=LEAD,
            tree=[*TREE, handed],
            request=request,
            actor="pkt_head",
            org=ORG,
            today=TODAY,
        )
    assert refused.value.reason == "ALREADY_ASSIGNED"
    # Nor named twice in one forward.
    twice = Forward(
        targets=(
            Target(person("pkt1_specialist"), Role.LEAD),
            Target(person("pkt1_specialist"), Role.INFORMED),
        )
    )
    with pytest.raises(InvalidArgumentError):
        forward(parent=LEAD, tree=TREE, request=twice, actor="pkt_head", org=ORG, today=TODAY)


def test_a_persons_task_is_handled_not_forwarded_and_informed_stays_informed() -> None:
    handed = task("t-spec", person("pkt_specialist"), parent="t-pkt")
    with pytest.raises(FailedPreconditionError) as refused:
        forward(
            parent=handed,
            tree=[*TREE, handed],
            request=Forward(targets=(Target(person("pkt1_specialist"), Role.LEAD),)),
            actor="pkt_specialist",
            org=ORG,
            today=TODAY,
        )
    assert refused.value.reason == "FORWARD_NOT_ALLOWED"
    informed = task("t-inf", Holder(unit="PKT"), Role.INFORMED)
    with pytest.raises(InvalidArgumentError) as wrong_role:
        forward(
            parent=informed,
            tree=[informed],
            request=Forward(targets=(Target(person("pkt_specialist"), Role.LEAD),)),
            actor="pkt_head",
            org=ORG,
            today=TODAY,
        )
    assert [v.field for v in wrong_role.value.violations] == ["to[0].role"]


def test_a_coordinating_specialist_cannot_complete_the_leads_task() -> None:
    lead_spec = task("t-lead-spec", person("pkt_specialist"), parent="t-pkt")
    coord_spec = task("t-coord-spec", person("vp_specialist"), Role.COORDINATING, parent="t-vp")
    tree = [*TREE, lead_spec, coord_spec]
    for t in (lead_spec, LEAD):
        with pytest.raises(PermissionDeniedError) as refused:
            complete(
                task=t,
                tree=tree,
                actor="vp_specialist",
                org=ORG,
                result="Xong",
                reply_document_id=None,
                now=NOW,
            )
        assert refused.value.reason == "TASK_NOT_HELD"
    done = complete(
        task=coord_spec,
        tree=tree,
        actor="vp_specialist",
        org=ORG,
        result="Đã góp ý",
        reply_document_id=None,
        now=NOW,
    )
    assert done.state is TaskState.COMPLETED and done.closed_by == "vp_specialist"
    assert done.state.exchange_status == "06"


def test_a_task_waits_for_what_it_forwarded_but_not_for_the_informed() -> None:
    lead_spec = task("t-lead-spec", person("pkt_specialist"), parent="t-pkt")
    informed = task("t-inf", person("pkt1_specialist"), Role.INFORMED, parent="t-pkt")
    with pytest.raises(FailedPreconditionError) as refused:
        complete(
            task=LEAD,
            tree=[*TREE, lead_spec, informed],
            actor="pkt_head",
            org=ORG,
            result="Xong",
            reply_document_id=None,
            now=NOW,
        )
    assert refused.value.reason == "OPEN_SUBTASKS"
    assert refused.value.metadata["task_ids"] == "t-lead-spec"
    finished = complete(
        task=lead_spec,
        tree=[],
        actor="pkt_specialist",
        org=ORG,
        result="Đã dự thảo công văn trả lời",
        reply_document_id="out-1",
        now=NOW,
    )
    tree = [*TREE, finished, informed]
    done = complete(
        task=LEAD,
        tree=tree,
        actor="pkt_head",
        org=ORG,
        result="Đã trả lời",
        reply_document_id="out-1",
        now=NOW,
    )
    assert done.reply_document_id == "out-1"
    with pytest.raises(FailedPreconditionError) as again:
        complete(
            task=done,
            tree=tree,
            actor="pkt_head",
            org=ORG,
            result="Lại",
            reply_document_id=None,
            now=NOW,
        )
    assert again.value.reason == "TASK_CLOSED"


def test_a_result_is_required_except_to_acknowledge() -> None:
    with pytest.raises(InvalidArgumentError):
        complete(
            task=LEAD,
            tree=TREE,
            actor="pkt_head",
            org=ORG,
            result="  ",
            reply_document_id=None,
            now=NOW,
        )
    informed = task("t-inf", person("pkt_specialist"), Role.INFORMED, parent="t-pkt")
    seen = complete(
        task=informed,
        tree=[],
        actor="pkt_specialist",
        org=ORG,
        result="",
        reply_document_id=None,
        now=NOW,
    )
    assert seen.state is TaskState.COMPLETED


def test_progress_and_return() -> None:
    moving = report_progress(task=LEAD, actor="pkt_head", org=ORG, note="Đang lấy ý kiến")
    assert moving.state is TaskState.IN_PROGRESS and moving.state.exchange_status == "05"
    with pytest.raises(InvalidArgumentError):
        give_back(task=LEAD, actor="pkt_head", org=ORG, reason="", now=NOW)
    returned = give_back(
        task=LEAD, actor="pkt_head", org=ORG, reason="Không thuộc thẩm quyền", now=NOW
    )
    assert returned.state is TaskState.RETURNED and returned.reason == "Không thuộc thẩm quyền"
    with pytest.raises(PermissionDeniedError):
        give_back(task=VP, actor="pkt_head", org=ORG, reason="Không phải của tôi", now=NOW)


def test_the_forwarder_or_a_leader_recalls_with_the_open_subtree() -> None:
    unit1 = task("t-pkt1", Holder(unit="PKT1"), Role.COORDINATING, parent="t-pkt")
    below = task("t-pkt1-spec", person("pkt1_specialist"), parent="t-pkt1")
    closed = task(
        "t-pkt1-done",
        person("pkt1_head"),
        Role.INFORMED,
        parent="t-pkt1",
        state=TaskState.COMPLETED,
    )
    tree = [*TREE, unit1, below, closed]
    assert [t.id for t in subtree(tree, "t-pkt")] == ["t-pkt1", "t-pkt1-spec", "t-pkt1-done"]
    recalled = recall(task=unit1, tree=tree, actor="pkt_head", org=ORG, is_leader=False, now=NOW)
    assert [(t.id, t.state) for t in recalled] == [
        ("t-pkt1", TaskState.RECALLED),
        ("t-pkt1-spec", TaskState.RECALLED),
    ]
    with pytest.raises(PermissionDeniedError) as refused:
        recall(task=unit1, tree=tree, actor="pkt1_head", org=ORG, is_leader=False, now=NOW)
    assert refused.value.reason == "RECALL_NOT_ALLOWED"
    # A root task has no forwarder: only a leader recalls it.
    with pytest.raises(PermissionDeniedError):
        recall(task=LEAD, tree=tree, actor="pkt_head", org=ORG, is_leader=False, now=NOW)
    by_leader = recall(task=LEAD, tree=tree, actor="chairman", org=ORG, is_leader=True, now=NOW)
    assert [t.id for t in by_leader] == ["t-pkt", "t-pkt1", "t-pkt1-spec"]  # not the closed one


def test_a_holder_is_a_unit_or_a_person() -> None:
    with pytest.raises(ValueError):
        Holder()
    with pytest.raises(ValueError):
        Holder(unit="VP", person="x")


def test_a_person_is_sent_a_document_only_when_cleared_for_it() -> None:
    request = Forward(
        targets=(
            Target(person("pkt_specialist"), Role.LEAD),  # cleared for không mật only
            Target(person("pkt1_specialist"), Role.INFORMED),  # cleared for mật
        )
    )
    with pytest.raises(InvalidArgumentError) as refused:
        forward(
            parent=LEAD,
            tree=TREE,
            request=request,
            actor="pkt_head",
            org=ORG,
            today=TODAY,
            secrecy=Secrecy.CONFIDENTIAL,
        )
    assert [v.field for v in refused.value.violations] == ["to[0]"]
    assert "cleared" in refused.value.violations[0].description


def test_a_task_taken_back_may_be_sent_again() -> None:
    taken_back = task("t-spec", person("pkt_specialist"), parent="t-pkt", state=TaskState.RECALLED)
    again = forward(
        parent=LEAD,
        tree=[*TREE, taken_back],
        request=Forward(targets=(Target(person("pkt_specialist"), Role.LEAD),)),
        actor="pkt_head",
        org=ORG,
        today=TODAY,
    )
    assert [t.holder.key for t in again] == ["person:pkt_specialist"]
