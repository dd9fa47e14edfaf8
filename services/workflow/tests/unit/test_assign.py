"""The leader's assignment: who may assign, for whom, and what is checked (fakes only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vanban.platform.caller import Caller, Delegation
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from vanban.platform.fakes import RecordingTransaction
from vanban.workflow.domain.calendar import CalendarDay, WorkCalendar
from vanban.workflow.domain.due import Due, DueKind
from vanban.workflow.domain.model import Assignment, AssignmentDraft
from vanban.workflow.domain.service import assign_incoming
from vanban.workflow.domain.tasks import Role, Task, TaskState

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LEADER = "lanh-dao"
DOCUMENT = str(uuid.uuid4())


@dataclass
class FakePeers:
    documents: dict[str, Secrecy] = field(default_factory=lambda: {DOCUMENT: Secrecy.NONE})
    leaders: set[str] = field(default_factory=lambda: {LEADER})
    units: set[str] = field(default_factory=lambda: {"VP", "PTH", "PKT"})

    async def document_secrecy(self, document_id: str) -> Secrecy | None:
        return self.documents.get(document_id)

    async def is_leader(self, person_id: str) -> bool:
        return person_id in self.leaders

    async def unknown_units(self, codes: Iterable[str]) -> list[str]:
        return [c for c in codes if c not in self.units]


@dataclass
class FakeTasks:
    rows: list[Task] = field(default_factory=list)
    dues: list[Due] = field(default_factory=list)

    async def add_all(self, new: Sequence[Task]) -> None:
        self.rows.extend(new)

    async def schedule(self, dues: Sequence[Due]) -> None:
        self.dues.extend(dues)

    async def lock_document(self, document_id: str) -> None:
        pass

    async def recall_open(
        self, document_id: str, *, keep_assignment: str, by: str, at: datetime
    ) -> list[str]:
        recalled = []
        for i, t in enumerate(self.rows):
            if t.document_id == document_id and t.assignment_id != keep_assignment and t.state.open:
                self.rows[i] = replace(t, state=TaskState.RECALLED, closed_by=by, closed_at=at)
                recalled.append(t.id)
        return recalled


class FakeCalendar:
    async def load(self) -> WorkCalendar:
        return WorkCalendar()

    async def year(self, year: int) -> list[CalendarDay]:
        return []

    async def replace_year(self, year: int, days: Sequence[CalendarDay]) -> None:
        pass


@dataclass
class FakeTransaction(RecordingTransaction):
    added: list[Assignment] = field(default_factory=list)
    events: list[Assignment] = field(default_factory=list)
    tasks: FakeTasks = field(default_factory=FakeTasks)
    calendar: FakeCalendar = field(default_factory=FakeCalendar)

    @property
    def assignments(self) -> FakeTransaction:
        return self

    async def add(self, assignment: Assignment) -> None:
        self.added.append(assignment)

    async def current(self, document_id: str) -> Assignment | None:
        return None

    async def get(self, assignment_id: str) -> Assignment | None:
        return next((a for a in self.added if a.id == assignment_id), None)

    def record_assigned(self, assignment: Assignment) -> None:
        self.events.append(assignment)


def draft(**overrides: object) -> AssignmentDraft:
    values: dict[str, Any] = {
        "document_id": DOCUMENT,
        "lead_unit": "VP",
        "coordinating_units": ("PTH",),
        "informed_units": ("PKT",),
        "opinion": "Giao Văn phòng chủ trì.",
        "deadline": "2026-11-30",
        "on_behalf_of": "",
    }
    values.update(overrides)
    return AssignmentDraft(**values)


def person(
    subject: str,
    *roles: str,
    delegations: tuple[Delegation, ...] = (),
    clearance: Clearance = Clearance.CONFIDENTIAL,
) -> Caller:
    return Caller(
        agency_code="000.00.00.H99",
        subject=subject,
        roles=frozenset(roles),
        delegations=delegations,
        clearance=clearance,
    )


def delegation(scope: str, starts: datetime, ends: datetime) -> Delegation:
    return Delegation(
        id="d", delegator_id=LEADER, scopes=frozenset({scope}), valid_from=starts, valid_until=ends
    )


async def test_a_leader_assigns_in_their_own_name() -> None:
    tx = FakeTransaction()
    result = await assign_incoming(
        tx=tx, peers=FakePeers(), actor=person(LEADER, "agency_leader"), draft=draft(), now=NOW
    )
    assert (result.assigned_by, result.on_behalf_of, result.lead_unit) == (LEADER, None, "VP")
    assert tx.added == [result] and tx.events == [result] and tx.commits == 1
    assert tx.audits[0]["on_behalf_of"] is None


async def test_each_unit_named_gets_its_task_and_a_new_assignment_recalls_the_former() -> None:
    tx = FakeTransaction()
    leader = person(LEADER, "agency_leader")
    first = await assign_incoming(tx=tx, peers=FakePeers(), actor=leader, draft=draft(), now=NOW)
    assert [(t.holder.key, t.role, t.state) for t in tx.tasks.rows] == [
        ("unit:VP", Role.LEAD, TaskState.ASSIGNED),
        ("unit:PTH", Role.COORDINATING, TaskState.ASSIGNED),
        ("unit:PKT", Role.INFORMED, TaskState.ASSIGNED),
    ]
    assert all(
        t.assignment_id == first.id and t.deadline == first.deadline and t.parent_id is None
        for t in tx.tasks.rows
    )
    assert tx.audits[0]["after"]["task_ids"] == [t.id for t in tx.tasks.rows]
    # Each task with the deadline (Monday 30 November 2026) falls due twice: the reminder at
    # 08:00 on Friday 27, the overdue notice when Monday ends.
    assert {(d.task_id, d.kind) for d in tx.tasks.dues} == {
        (t.id, k) for t in tx.tasks.rows for k in (DueKind.DUE_SOON, DueKind.OVERDUE)
    }
    times = {(d.kind, d.at.isoformat()) for d in tx.tasks.dues}
    assert times == {
        (DueKind.DUE_SOON, "2026-11-27T08:00:00+00:00"),
        (DueKind.OVERDUE, "2026-12-01T00:00:00+00:00"),
    }
    later = NOW + timedelta(hours=1)
    second = await assign_incoming(
        tx=tx,
        peers=FakePeers(),
        actor=leader,
        draft=draft(lead_unit="PKT", informed_units=()),
        now=later,
    )
    by_assignment = {
        a: [(t.holder.key, t.state) for t in tx.tasks.rows if t.assignment_id == a]
        for a in (first.id, second.id)
    }
    assert by_assignment[first.id] == [
        ("unit:VP", TaskState.RECALLED),
        ("unit:PTH", TaskState.RECALLED),
        ("unit:PKT", TaskState.RECALLED),
    ]
    assert by_assignment[second.id] == [
        ("unit:PKT", TaskState.ASSIGNED),
        ("unit:PTH", TaskState.ASSIGNED),
    ]
    assert len(tx.audits[1]["after"]["recalled_task_ids"]) == 3


@pytest.mark.parametrize("role", ["specialist", "unit_head", "clerk", "admin"])
async def test_others_may_not_assign_in_their_own_name(role: str) -> None:
    tx = FakeTransaction()
    with pytest.raises(PermissionDeniedError) as refused:
        await assign_incoming(
            tx=tx, peers=FakePeers(), actor=person("x", role), draft=draft(), now=NOW
        )
    assert refused.value.reason == "ROLE_REQUIRED"
    assert tx.commits == 0


async def test_a_delegate_assigns_for_the_leader_inside_the_dates_and_the_audit_names_both() -> (
    None
):
    tx = FakeTransaction()
    deputy = person(
        "pho",
        "unit_head",
        delegations=(delegation("assign", NOW - timedelta(days=1), NOW + timedelta(days=1)),),
    )
    result = await assign_incoming(
        tx=tx, peers=FakePeers(), actor=deputy, draft=draft(on_behalf_of=LEADER), now=NOW
    )
    assert (result.assigned_by, result.on_behalf_of) == ("pho", LEADER)
    assert tx.audits[0]["on_behalf_of"] == LEADER


@pytest.mark.parametrize(
    "held",
    [
        (),
        (delegation("assign", NOW + timedelta(days=1), NOW + timedelta(days=2)),),
        (delegation("assign", NOW - timedelta(days=2), NOW - timedelta(days=1)),),
        (delegation("sign", NOW - timedelta(days=1), NOW + timedelta(days=1)),),
    ],
    ids=["none", "not-yet", "ended", "other-scope"],
)
async def test_a_delegate_may_not_assign_outside_the_delegation(
    held: tuple[Delegation, ...],
) -> None:
    tx = FakeTransaction()
    with pytest.raises(PermissionDeniedError) as refused:
        await assign_incoming(
            tx=tx,
            peers=FakePeers(),
            actor=person("pho", "unit_head", delegations=held),
            draft=draft(on_behalf_of=LEADER),
            now=NOW,
        )
    assert refused.value.reason == "DELEGATION_REQUIRED"
    assert tx.commits == 0


async def test_a_delegation_from_someone_who_is_not_a_leader_grants_nothing() -> None:
    deputy = person(
        "pho", delegations=(delegation("assign", NOW - timedelta(days=1), NOW + timedelta(days=1)),)
    )
    with pytest.raises(PermissionDeniedError) as refused:
        await assign_incoming(
            tx=FakeTransaction(),
            peers=FakePeers(leaders=set()),
            actor=deputy,
            draft=draft(on_behalf_of=LEADER),
            now=NOW,
        )
    assert refused.value.reason == "NOT_A_LEADER"


async def test_unknown_documents_and_units_are_refused() -> None:
    leader = person(LEADER, "agency_leader")
    with pytest.raises(NotFoundError):
        await assign_incoming(
            tx=FakeTransaction(),
            peers=FakePeers(documents={}),
            actor=leader,
            draft=draft(),
            now=NOW,
        )
    with pytest.raises(InvalidArgumentError) as unknown:
        await assign_incoming(
            tx=FakeTransaction(),
            peers=FakePeers(),
            actor=leader,
            draft=draft(lead_unit="PXX"),
            now=NOW,
        )
    assert "PXX" in unknown.value.message


@pytest.mark.parametrize(
    ("overrides", "field_name"),
    [
        ({"lead_unit": ""}, "lead_unit"),
        ({"coordinating_units": ("VP",)}, "lead_unit"),
        ({"informed_units": ("PTH",)}, "informed_units"),
        ({"deadline": "30/11/2026"}, "deadline"),
        ({"deadline": "2026-11-19"}, "deadline"),
        ({"opinion": "x" * 2001}, "opinion"),
        ({"document_id": "nope"}, "document_id"),
    ],
)
async def test_invalid_assignments_name_the_field(
    overrides: dict[str, object], field_name: str
) -> None:
    with pytest.raises(InvalidArgumentError) as invalid:
        await assign_incoming(
            tx=FakeTransaction(),
            peers=FakePeers(),
            actor=person(LEADER, "agency_leader"),
            draft=draft(**overrides),
            now=NOW,
        )
    assert field_name in [v.field for v in invalid.value.violations]


@pytest.mark.parametrize("clearance", [Clearance.NONE, Clearance.CONFIDENTIAL])
async def test_a_document_above_the_assigners_clearance_does_not_exist_for_them(
    clearance: Clearance,
) -> None:
    tx = FakeTransaction()
    with pytest.raises(NotFoundError):
        await assign_incoming(
            tx=tx,
            peers=FakePeers(documents={DOCUMENT: Secrecy.SECRET}),
            actor=person(LEADER, "agency_leader", clearance=clearance),
            draft=draft(),
            now=NOW,
        )
    assert tx.commits == 0
    cleared = await assign_incoming(
        tx=tx,
        peers=FakePeers(documents={DOCUMENT: Secrecy.SECRET}),
        actor=person(LEADER, "agency_leader", clearance=Clearance.SECRET),
        draft=draft(),
        now=NOW,
    )
    assert cleared.document_id == DOCUMENT
