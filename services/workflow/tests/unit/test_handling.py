"""Handling an assigned document end to end through the use cases (fakes only): one opinion seen
by every assignee, forwarding down the units, completion by the holder only, delegation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vanban.platform.caller import Caller, Delegation
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from vanban.platform.fakes import RecordingTransaction
from vanban.workflow.domain.calendar import CalendarDay, Priority, WorkCalendar
from vanban.workflow.domain.due import Due
from vanban.workflow.domain.handling import (
    complete_task,
    forward_task,
    my_tasks,
    progress_task,
    read_task,
    recall_task,
    return_task,
)
from vanban.workflow.domain.model import Assignment, AssignmentDraft
from vanban.workflow.domain.ports import IncomingFacts
from vanban.workflow.domain.service import assign_incoming
from vanban.workflow.domain.tasks import (
    Forward,
    Holder,
    Organisation,
    Role,
    Target,
    Task,
    TaskState,
    Unit,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
DOCUMENT = str(uuid.uuid4())
OPINION = "Giao Phòng Kinh tế chủ trì, Văn phòng và Phòng Tư pháp phối hợp; báo cáo trước 30/11."

ORG = Organisation(
    units={
        "UBND": Unit("UBND", None, "chairman"),
        "VP": Unit("VP", "UBND", "vp_head"),
        "PKT": Unit("PKT", "UBND", "pkt_head", frozenset({"pkt_deputy"})),
        "PTH": Unit("PTH", "UBND", "pth_head"),
    },
    clearances={p: Clearance.NONE for p in ("vp_specialist", "pkt_specialist", "pth_specialist")}
    | {"pkt_deputy": Clearance.CONFIDENTIAL, "vp_head": Clearance.CONFIDENTIAL},
    members={
        "vp_head": frozenset({"VP"}),
        "vp_specialist": frozenset({"VP"}),
        "pkt_head": frozenset({"PKT"}),
        "pkt_deputy": frozenset({"PKT"}),
        "pkt_specialist": frozenset({"PKT"}),
        "pth_head": frozenset({"PTH"}),
        "pth_specialist": frozenset({"PTH"}),
    },
)


@dataclass
class Peers:
    secrecy: Secrecy = Secrecy.NONE
    # The units as a cache kept them before the directory changed (None: always up to date).
    stale: Organisation | None = None

    async def document_secrecy(self, document_id: str) -> Secrecy | None:
        return self.secrecy

    async def incoming(self, document_id: str) -> IncomingFacts | None:
        return IncomingFacts(self.secrecy, Priority.NORMAL)

    async def people_not_cleared(self, people: Iterable[str], secrecy: Secrecy) -> list[str]:
        return []

    async def is_leader(self, person_id: str) -> bool:
        return person_id == "chairman"

    async def unknown_units(self, codes: Iterable[str]) -> list[str]:
        return [c for c in codes if c not in ORG.units]

    async def organisation(self, *, fresh: bool = False) -> Organisation:
        if self.stale is not None and not fresh:
            return self.stale
        return ORG

    async def with_people(self, org: Organisation, people: Iterable[str]) -> Organisation:
        return ORG


@dataclass
class Store:
    assignments: dict[str, Assignment] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    events: list[tuple[str, str]] = field(default_factory=list)
    dues: list[Due] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)


@dataclass
class Assignments:
    store: Store

    async def add(self, assignment: Assignment) -> None:
        self.store.assignments[assignment.id] = assignment

    async def get(self, assignment_id: str) -> Assignment | None:
        return self.store.assignments.get(assignment_id)

    async def current(self, document_id: str) -> Assignment | None:
        return None


@dataclass
class Tasks:
    store: Store

    async def add_all(self, new: Sequence[Task]) -> None:
        for t in new:
            self.store.tasks[t.id] = t

    async def recall_open(
        self, document_id: str, *, keep_assignment: str, by: str, at: datetime
    ) -> list[str]:
        return []

    async def get(self, task_id: str, *, lock: bool) -> Task | None:
        return self.store.tasks.get(task_id)

    async def tree(self, assignment_id: str) -> list[Task]:
        return [t for t in self.store.tasks.values() if t.assignment_id == assignment_id]

    async def update(self, task: Task) -> None:
        self.store.tasks[task.id] = task

    async def schedule(self, dues: Sequence[Due]) -> None:
        self.store.dues.extend(dues)

    async def lock_document(self, document_id: str) -> None:
        self.store.locked.append(document_id)

    async def waiting_reminders(self, first: date, last: date) -> list[tuple[str, date, datetime]]:
        return []

    async def move_reminders(self, moved: Sequence[tuple[str, datetime]]) -> None:
        pass

    async def held(
        self,
        *,
        person: str,
        units: Sequence[str],
        states: Sequence[TaskState],
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Task]:
        found = [
            t
            for t in self.store.tasks.values()
            if (t.holder.person == person or t.holder.unit in units)
            and (not states or t.state in states)
            and (after is None or (t.created_at, t.id) < after)
        ]
        return sorted(found, key=lambda t: (t.created_at, t.id), reverse=True)[:limit]


class Calendar:
    async def load(self) -> WorkCalendar:
        return WorkCalendar()

    async def year(self, year: int) -> list[CalendarDay]:
        return []

    async def replace_year(self, year: int, days: Sequence[CalendarDay]) -> None:
        pass


@dataclass
class Tx(RecordingTransaction):
    """Every use case's transaction over one shared store, as the database would be."""

    store: Store = field(default_factory=Store)

    @property
    def assignments(self) -> Assignments:
        return Assignments(self.store)

    @property
    def tasks(self) -> Tasks:
        return Tasks(self.store)

    @property
    def calendar(self) -> Calendar:
        return Calendar()

    # Events
    def record_assigned(self, assignment: Assignment) -> None:
        self.store.events.append(("assigned", assignment.id))

    def record_tasks_assigned(self, assignment: Assignment, created: Sequence[Task]) -> None:
        self.store.events.append(("tasks_assigned", assignment.id))

    def record_forwarded(self, parent: Task, created: Sequence[Task]) -> None:
        self.store.events.extend(("forwarded", t.id) for t in created)

    def record_completed(self, task: Task) -> None:
        self.store.events.append(("completed", task.id))

    def record_returned(self, task: Task) -> None:
        self.store.events.append(("returned", task.id))


def caller(subject: str, *roles: str, delegations: tuple[Delegation, ...] = ()) -> Caller:
    return Caller(
        agency_code="000.00.00.H99",
        subject=subject,
        roles=frozenset(roles or ("specialist",)),
        delegations=delegations,
        clearance=Clearance.CONFIDENTIAL,
    )


async def assigned(store: Store) -> dict[str, Task]:
    """The leader's assignment: PKT leads, VP and PTH coordinate; the root tasks by unit."""
    await assign_incoming(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller("chairman", "agency_leader"),
        draft=AssignmentDraft(
            document_id=DOCUMENT,
            lead_unit="PKT",
            coordinating_units=("VP", "PTH"),
            informed_units=(),
            opinion=OPINION,
            deadline="2026-11-30",
            on_behalf_of="",
        ),
        now=NOW,
    )
    return {t.holder.unit or "": t for t in store.tasks.values()}


async def hand_down(store: Store, unit: str, head: str, specialist: str, role: Role) -> Task:
    roots = {t.holder.unit: t for t in store.tasks.values() if t.parent_id is None}
    [child] = await forward_task(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller(head, "unit_head"),
        task_id=roots[unit].id,
        request=Forward(targets=(Target(Holder(person=specialist), role),), note=f"{unit} giao"),
        on_behalf_of="",
        now=NOW,
        today=TODAY,
    )
    return child


async def test_every_assignee_reads_the_same_opinion_and_the_whole_tree() -> None:
    store = Store()
    roots = await assigned(store)
    lead = await hand_down(store, "PKT", "pkt_head", "pkt_specialist", Role.LEAD)
    coordinating = await hand_down(store, "VP", "vp_head", "vp_specialist", Role.LEAD)
    seen = []
    for who, task in (
        ("pkt_head", roots["PKT"]),
        ("vp_head", roots["VP"]),
        ("pth_head", roots["PTH"]),
        ("pkt_specialist", lead),
        ("vp_specialist", coordinating),
    ):
        view = await read_task(
            tx=Tx(store=store), peers=Peers(), actor=caller(who), task_id=task.id
        )
        seen.append((view.assignment.opinion, len(view.tree)))
    assert seen == [(OPINION, 5)] * 5
    # Typed once: the forwarded tasks carry their unit's note, not a copy of the opinion.
    assert lead.note == "PKT giao" and lead.deadline == date(2026, 11, 30)
    with pytest.raises(NotFoundError):
        await read_task(
            tx=Tx(store=store), peers=Peers(), actor=caller("stranger"), task_id=lead.id
        )
    with pytest.raises(NotFoundError):
        await read_task(tx=Tx(store=store), peers=Peers(), actor=caller("x"), task_id="not-an-id")


async def test_a_new_head_acts_at_once_though_the_units_were_kept_before_the_change() -> None:
    store = Store()
    roots = await assigned(store)
    # PTH had another head when the units were last kept; pth_head is its head now.
    before = Organisation(
        units={**ORG.units, "PTH": Unit("PTH", "UBND", "former_head")},
        members=ORG.members,
        clearances=ORG.clearances,
    )
    view = await read_task(
        tx=Tx(store=store),
        peers=Peers(stale=before),
        actor=caller("pth_head", "unit_head"),
        task_id=roots["PTH"].id,
    )
    assert view.task.id == roots["PTH"].id
    mine = await my_tasks(
        tx=Tx(store=store),
        peers=Peers(stale=before),
        actor=caller("pth_head", "unit_head"),
        states=(),
        size=10,
        after=None,
    )
    assert [t.id for t in mine.tasks] == [roots["PTH"].id]
    # ... and the former head, by the directory now, no longer reads it.
    with pytest.raises(NotFoundError):
        await read_task(
            tx=Tx(store=store),
            peers=Peers(),
            actor=caller("former_head", "unit_head"),
            task_id=roots["PTH"].id,
        )


async def test_a_coordinating_specialist_cannot_complete_the_leads_task() -> None:
    store = Store()
    roots = await assigned(store)
    lead = await hand_down(store, "PKT", "pkt_head", "pkt_specialist", Role.LEAD)
    await hand_down(store, "VP", "vp_head", "vp_specialist", Role.LEAD)
    for task in (lead, roots["PKT"]):
        with pytest.raises(PermissionDeniedError) as refused:
            await complete_task(
                tx=Tx(store=store),
                peers=Peers(),
                actor=caller("vp_specialist"),
                task_id=task.id,
                result="Xong",
                reply_document_id=None,
                on_behalf_of="",
                now=NOW,
            )
        assert refused.value.reason == "TASK_NOT_HELD"
    assert store.tasks[lead.id].state is TaskState.ASSIGNED


async def test_forwarding_outside_the_subtree_or_past_the_deadline_is_refused() -> None:
    store = Store()
    roots = await assigned(store)
    for request, field_name in (
        (Forward(targets=(Target(Holder(person="vp_specialist"), Role.LEAD),)), "to[0]"),
        (
            Forward(
                targets=(Target(Holder(person="pkt_specialist"), Role.LEAD),),
                deadline=date(2026, 12, 5),
            ),
            "deadline",
        ),
    ):
        with pytest.raises(InvalidArgumentError) as refused:
            await forward_task(
                tx=Tx(store=store),
                peers=Peers(),
                actor=caller("pkt_head", "unit_head"),
                task_id=roots["PKT"].id,
                request=request,
                on_behalf_of="",
                now=NOW,
                today=TODAY,
            )
        assert [v.field for v in refused.value.violations] == [field_name]
    assert len(store.tasks) == 3  # nothing written


async def test_the_handling_through_to_completion_with_events_and_audit() -> None:
    store = Store()
    roots = await assigned(store)
    lead = await hand_down(store, "PKT", "pkt_head", "pkt_specialist", Role.LEAD)
    tx = Tx(store=store)
    moving = await progress_task(
        tx=tx,
        peers=Peers(),
        actor=caller("pkt_specialist"),
        task_id=lead.id,
        note="Đang dự thảo",
        on_behalf_of="",
        now=NOW,
    )
    assert moving.state is TaskState.IN_PROGRESS
    with pytest.raises(FailedPreconditionError) as waiting:
        await complete_task(
            tx=Tx(store=store),
            peers=Peers(),
            actor=caller("pkt_head", "unit_head"),
            task_id=roots["PKT"].id,
            result="Xong",
            reply_document_id=None,
            on_behalf_of="",
            now=NOW,
        )
    assert waiting.value.reason == "OPEN_SUBTASKS"
    for who, task in (("pkt_specialist", lead), ("pkt_head", roots["PKT"])):
        done = await complete_task(
            tx=Tx(store=store),
            peers=Peers(),
            actor=caller(who),
            task_id=task.id,
            result="Đã dự thảo văn bản trả lời",
            reply_document_id="out-1",
            on_behalf_of="",
            now=NOW + timedelta(hours=2),
        )
        assert done.state is TaskState.COMPLETED and done.closed_by == who
    kinds = [k for k, _ in store.events]
    assert kinds == ["assigned", "tasks_assigned", "forwarded", "completed", "completed"]
    assert tx.audits[0]["action"] == "task.progress"


async def test_a_deputy_acts_for_the_head_under_a_delegation_and_both_are_named() -> None:
    store = Store()
    roots = await assigned(store)
    held = Delegation(
        id="d1",
        delegator_id="vp_head",
        scopes=frozenset({"handle"}),
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=1),
    )
    tx = Tx(store=store)
    [child] = await forward_task(
        tx=tx,
        peers=Peers(),
        actor=caller("pkt_specialist", delegations=(held,)),
        task_id=roots["VP"].id,
        request=Forward(targets=(Target(Holder(person="vp_specialist"), Role.LEAD),)),
        on_behalf_of="vp_head",
        now=NOW,
        today=TODAY,
    )
    assert (child.created_by, child.on_behalf_of) == ("pkt_specialist", "vp_head")
    assert tx.audits[0]["on_behalf_of"] == "vp_head"
    with pytest.raises(PermissionDeniedError) as refused:
        await forward_task(
            tx=Tx(store=store),
            peers=Peers(),
            actor=caller("pkt_specialist"),
            task_id=roots["VP"].id,
            request=Forward(targets=(Target(Holder(person="vp_head"), Role.INFORMED),)),
            on_behalf_of="vp_head",
            now=NOW,
            today=TODAY,
        )
    assert refused.value.reason == "DELEGATION_REQUIRED"


async def test_return_and_recall() -> None:
    store = Store()
    roots = await assigned(store)
    lead = await hand_down(store, "PKT", "pkt_head", "pkt_specialist", Role.LEAD)
    returned = await return_task(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller("pth_head", "unit_head"),
        task_id=roots["PTH"].id,
        reason="Không thuộc lĩnh vực của phòng",
        on_behalf_of="",
        now=NOW,
    )
    assert returned.state is TaskState.RETURNED
    with pytest.raises(PermissionDeniedError):
        await recall_task(
            tx=Tx(store=store),
            peers=Peers(),
            actor=caller("vp_head", "unit_head"),
            task_id=lead.id,
            on_behalf_of="",
            now=NOW,
        )
    recalled = await recall_task(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller("pkt_head", "unit_head"),
        task_id=lead.id,
        on_behalf_of="",
        now=NOW,
    )
    assert [t.id for t in recalled] == [lead.id]
    assert store.tasks[lead.id] == replace(
        lead, state=TaskState.RECALLED, closed_at=NOW, closed_by="pkt_head"
    )


async def test_my_tasks_are_mine_and_my_units_a_page_at_a_time() -> None:
    store = Store()
    roots = await assigned(store)
    lead = await hand_down(store, "PKT", "pkt_head", "pkt_specialist", Role.LEAD)
    page = await my_tasks(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller("pkt_specialist"),
        states=(),
        size=5,
        after=None,
    )
    assert [t.id for t in page.tasks] == [lead.id] and page.next_after is None
    # The deputy sees the unit's task; the head of another unit does not.
    page = await my_tasks(
        tx=Tx(store=store), peers=Peers(), actor=caller("pkt_deputy"), states=(), size=5, after=None
    )
    assert [t.id for t in page.tasks] == [roots["PKT"].id]
    # Later tasks first, a page at a time.
    for i in range(3):
        t = replace(lead, id=f"later-{i}", created_at=NOW + timedelta(minutes=i + 1))
        store.tasks[t.id] = t
    first = await my_tasks(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller("pkt_specialist"),
        states=(),
        size=2,
        after=None,
    )
    assert [t.id for t in first.tasks] == ["later-2", "later-1"]
    rest = await my_tasks(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller("pkt_specialist"),
        states=(TaskState.ASSIGNED,),
        size=2,
        after=first.next_after,
    )
    assert [t.id for t in rest.tasks] == ["later-0", lead.id] and rest.next_after is None


async def test_nobody_reads_a_task_of_a_document_above_their_clearance() -> None:
    store = Store()
    roots = await assigned(store)
    secret = Peers(secrecy=Secrecy.SECRET)
    for who in (caller("chairman", "agency_leader"), caller("pkt_head", "unit_head")):
        with pytest.raises(NotFoundError):  # caller() is cleared for mật, not tối mật
            await read_task(tx=Tx(store=store), peers=secret, actor=who, task_id=roots["PKT"].id)
    view = await read_task(
        tx=Tx(store=store),
        peers=Peers(secrecy=Secrecy.CONFIDENTIAL),
        actor=caller("pkt_head"),
        task_id=roots["PKT"].id,
    )
    assert view.assignment.opinion == OPINION


async def test_a_task_taken_back_gives_no_more_access_and_a_return_takes_its_subtree() -> None:
    store = Store()
    roots = await assigned(store)
    lead = await hand_down(store, "PKT", "pkt_head", "pkt_specialist", Role.LEAD)
    assert store.locked, "the forward held the document's tasks"
    await recall_task(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller("pkt_head", "unit_head"),
        task_id=lead.id,
        on_behalf_of="",
        now=NOW,
    )
    with pytest.raises(NotFoundError):
        await read_task(
            tx=Tx(store=store), peers=Peers(), actor=caller("pkt_specialist"), task_id=lead.id
        )
    # Sent again after the recall, then the unit's task is returned: the specialist's goes too.
    again = await hand_down(store, "PKT", "pkt_head", "pkt_specialist", Role.LEAD)
    await return_task(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller("pkt_head", "unit_head"),
        task_id=roots["PKT"].id,
        reason="Không thuộc thẩm quyền",
        on_behalf_of="",
        now=NOW,
    )
    assert store.tasks[roots["PKT"].id].state is TaskState.RETURNED
    assert store.tasks[again.id].state is TaskState.RECALLED


async def test_reminders_fall_due_in_vietnam_time() -> None:
    store = Store()
    vietnam = ZoneInfo("Asia/Ho_Chi_Minh")
    await assign_incoming(
        tx=Tx(store=store),
        peers=Peers(),
        actor=caller("chairman", "agency_leader"),
        draft=AssignmentDraft(
            document_id=DOCUMENT,
            lead_unit="PKT",
            coordinating_units=(),
            informed_units=(),
            opinion=OPINION,
            deadline="2026-11-30",
            on_behalf_of="",
        ),
        now=datetime(2026, 11, 20, 9, 0, tzinfo=vietnam),
    )
    assert sorted((d.kind.value, d.at.isoformat()) for d in store.dues) == [
        ("due_soon", "2026-11-27T08:00:00+07:00"),  # Friday, the working day before Monday
        ("overdue", "2026-12-01T00:00:00+07:00"),
    ]
