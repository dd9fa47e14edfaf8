"""The leader's assignment: who may assign, for whom, and what is checked (fakes only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from vanban.platform.caller import Caller, Delegation
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from vanban.platform.fakes import RecordingTransaction
from vanban.workflow.domain.calendar import CalendarDay, Priority, WorkCalendar
from vanban.workflow.domain.due import Due, DueKind
from vanban.workflow.domain.model import Assignment, AssignmentDraft
from vanban.workflow.domain.ports import IncomingFacts
from vanban.workflow.domain.service import assign_incoming
from vanban.workflow.domain.tasks import Role, Task, TaskState

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
LEADER = "lanh-dao"
DOCUMENT = str(uuid.uuid4())


@dataclass
class FakePeers:
    documents: dict[str, IncomingFacts] = field(
        default_factory=lambda: {DOCUMENT: IncomingFacts(Secrecy.NONE, Priority.NORMAL)}
    )
    leaders: set[str] = field(default_factory=lambda: {LEADER})
    units: set[str] = field(default_factory=lambda: {"VP", "PTH", "PKT"})
    # Active people and their clearance.
    people: dict[str, Clearance] = field(default_factory=dict)

    async def incoming(self, document_id: str) -> IncomingFacts | None:
        return self.documents.get(document_id)

    async def people_not_cleared(self, people: Iterable[str], secrecy: Secrecy) -> list[str]:
        return [p for p in people if p not in self.people or not self.people[p].covers(secrecy)]

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

    async def waiting_reminders(self, first: date, last: date) -> list[tuple[str, date, datetime]]:
        return []

    async def move_reminders(self, moved: Sequence[tuple[str, datetime]]) -> None:
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


@dataclass
class FakeCalendar:
    exceptions: list[CalendarDay] = field(default_factory=list)

    async def load(self) -> WorkCalendar:
        return WorkCalendar.of(self.exceptions)

    async def year(self, year: int) -> list[CalendarDay]:
        return []

    async def replace_year(self, year: int, days: Sequence[CalendarDay]) -> None:
        pass


@dataclass
class FakeTransaction(RecordingTransaction):
    added: list[Assignment] = field(default_factory=list)
    events: list[Assignment] = field(default_factory=list)
    assigned_tasks: list[Task] = field(default_factory=list)
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

    def record_tasks_assigned(self, assignment: Assignment, created: Sequence[Task]) -> None:
        self.assigned_tasks.extend(created)


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
    # One task per unit named, each announced (workflow.task.assigned).
    assert tx.assigned_tasks == tx.tasks.rows and len(tx.assigned_tasks) == 3
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
            peers=FakePeers(documents={DOCUMENT: IncomingFacts(Secrecy.SECRET, Priority.NORMAL)}),
            actor=person(LEADER, "agency_leader", clearance=clearance),
            draft=draft(),
            now=NOW,
        )
    assert tx.commits == 0
    cleared = await assign_incoming(
        tx=tx,
        peers=FakePeers(documents={DOCUMENT: IncomingFacts(Secrecy.SECRET, Priority.NORMAL)}),
        actor=person(LEADER, "agency_leader", clearance=Clearance.SECRET),
        draft=draft(),
        now=NOW,
    )
    assert cleared.document_id == DOCUMENT


# Tết Bính Ngọ as the seed holds it: Monday 16 to Friday 20 February 2026 off.
TET_2026 = [CalendarDay(date(2026, 2, d), False, "Tết Nguyên đán") for d in range(16, 21)]
FRIDAY_BEFORE_TET = datetime(2026, 2, 13, 9, 0, tzinfo=VIETNAM)


def on_calendar(*days: CalendarDay) -> FakeTransaction:
    return FakeTransaction(calendar=FakeCalendar(list(days)))


async def test_working_days_skip_the_weekend_and_tet() -> None:
    tx = on_calendar(*TET_2026)
    assigned = await assign_incoming(
        tx=tx,
        peers=FakePeers(),
        actor=person(LEADER, "agency_leader"),
        draft=draft(deadline="", deadline_working_days=3),
        now=FRIDAY_BEFORE_TET,
    )
    # Friday 13 → (weekend, Tết 16-20, weekend) → Monday 23, Tuesday 24, Wednesday 25.
    assert assigned.deadline == date(2026, 2, 25)
    assert {t.deadline for t in tx.tasks.rows} == {date(2026, 2, 25)}
    # The reminder on the working day before, 08:00; the overdue notice at the next midnight.
    lead = tx.tasks.rows[0]
    assert sorted((d.kind.value, d.at) for d in tx.tasks.dues if d.task_id == lead.id) == [
        ("due_soon", datetime(2026, 2, 24, 8, 0, tzinfo=VIETNAM)),
        ("overdue", datetime(2026, 2, 26, 0, 0, tzinfo=VIETNAM)),
    ]


async def test_a_deadline_right_after_tet_is_reminded_before_it() -> None:
    tx = on_calendar(*TET_2026)
    await assign_incoming(
        tx=tx,
        peers=FakePeers(),
        actor=person(LEADER, "agency_leader"),
        draft=draft(deadline="2026-02-23"),
        now=datetime(2026, 2, 11, 9, 0, tzinfo=VIETNAM),
    )
    soon = [d.at for d in tx.tasks.dues if d.kind is DueKind.DUE_SOON]
    # Monday 23 February: the working day before it is Friday 13, before the holiday.
    assert set(soon) == {datetime(2026, 2, 13, 8, 0, tzinfo=VIETNAM)}


@pytest.mark.parametrize(
    ("priority", "assigned_on", "due"),
    [
        # On a working day (Tuesday 24 February 2026): hỏa tốc the same day, thượng khẩn the
        # next, khẩn 3 working days, thường 10.
        (Priority.FLASH, date(2026, 2, 24), date(2026, 2, 24)),
        (Priority.VERY_URGENT, date(2026, 2, 24), date(2026, 2, 25)),
        (Priority.URGENT, date(2026, 2, 24), date(2026, 2, 27)),
        (Priority.NORMAL, date(2026, 2, 24), date(2026, 3, 10)),
        # In Tết: hỏa tốc the first working day after it, thượng khẩn the one after that.
        (Priority.FLASH, date(2026, 2, 16), date(2026, 2, 23)),
        (Priority.VERY_URGENT, date(2026, 2, 16), date(2026, 2, 23)),
        (Priority.URGENT, date(2026, 2, 16), date(2026, 2, 25)),
    ],
)
async def test_without_a_deadline_the_documents_urgency_sets_a_short_one(
    priority: Priority, assigned_on: date, due: date
) -> None:
    tx = on_calendar(*TET_2026)
    assigned = await assign_incoming(
        tx=tx,
        peers=FakePeers(documents={DOCUMENT: IncomingFacts(Secrecy.NONE, priority)}),
        actor=person(LEADER, "agency_leader"),
        draft=draft(deadline=""),
        now=datetime.combine(assigned_on, time(9, 0), tzinfo=VIETNAM),
    )
    assert assigned.deadline == due


async def test_people_lead_coordinate_and_are_informed_with_tasks_of_their_own() -> None:
    tx = FakeTransaction()
    lead, helper, reader = (str(uuid.uuid4()) for _ in range(3))
    peers = FakePeers(people={p: Clearance.CONFIDENTIAL for p in (lead, helper, reader)})
    assigned = await assign_incoming(
        tx=tx,
        peers=peers,
        actor=person(LEADER, "agency_leader"),
        draft=draft(
            lead_unit="",
            lead_person=lead,
            coordinating_people=(helper,),
            informed_people=(reader,),
        ),
        now=NOW,
    )
    assert (assigned.lead_unit, assigned.lead_person) == ("", lead)
    held = {(t.role, t.holder.unit, t.holder.person) for t in tx.tasks.rows}
    assert held == {
        (Role.LEAD, None, lead),
        (Role.COORDINATING, "PTH", None),
        (Role.COORDINATING, None, helper),
        (Role.INFORMED, "PKT", None),
        (Role.INFORMED, None, reader),
    }
    # Someone unknown, or not cleared for a secret document, is refused before anything is kept.
    secret = FakePeers(
        documents={DOCUMENT: IncomingFacts(Secrecy.SECRET, Priority.NORMAL)},
        people={lead: Clearance.CONFIDENTIAL},
    )
    refused_tx = FakeTransaction()
    with pytest.raises(InvalidArgumentError) as refused:
        await assign_incoming(
            tx=refused_tx,
            peers=secret,
            actor=person(LEADER, "agency_leader", clearance=Clearance.SECRET),
            draft=draft(lead_unit="", lead_person=lead),
            now=NOW,
        )
    assert refused.value.reason == "UNKNOWN_PEOPLE" and refused_tx.commits == 0
    assert refused_tx.tasks.rows == []


@pytest.mark.parametrize(
    ("overrides", "field_name"),
    [
        ({"lead_person": "7d9f2c1e-4a3b-4c5d-9e8f-0a1b2c3d4e5f"}, "lead_unit"),  # both
        ({"lead_unit": "", "lead_person": "nope"}, "lead_person"),
        ({"deadline_working_days": 3}, "deadline_working_days"),  # and a date
        ({"deadline": "", "deadline_working_days": 400}, "deadline_working_days"),
        (
            {
                "coordinating_people": ("7d9f2c1e-4a3b-4c5d-9e8f-0a1b2c3d4e5f",),
                "informed_people": ("7d9f2c1e-4a3b-4c5d-9e8f-0a1b2c3d4e5f",),
            },
            "informed_people",
        ),
    ],
)
async def test_invalid_people_and_deadlines_name_the_field(
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
