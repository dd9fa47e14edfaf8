"""Tasks (nhiệm vụ xử lý): the tree an assignment grows as unit heads forward it down their units
(Decree 30 arts. 20-24; ADR 0010, 1). Pure rules: who holds a task, who may forward, complete,
return or recall it, and what a forward may name; the adapters load and store the trees.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    PermissionDeniedError,
    invalid_fields,
)
from vanban.workflow.domain.values import CONTROL_RE

NOTE_MAX = 2000
RESULT_MAX = 4000
TARGETS_MAX = 50


class Role(enum.Enum):
    LEAD = "lead"  # chủ trì
    COORDINATING = "coordinating"  # phối hợp
    INFORMED = "informed"  # để biết


class TaskState(enum.Enum):
    """The exchange's business statuses where they exist (04, 05, 06), and two of our own."""

    ASSIGNED = "assigned"  # 04
    IN_PROGRESS = "in_progress"  # 05
    COMPLETED = "completed"  # 06
    RETURNED = "returned"
    RECALLED = "recalled"

    @property
    def open(self) -> bool:
        return self in (TaskState.ASSIGNED, TaskState.IN_PROGRESS)

    @property
    def exchange_status(self) -> str | None:
        return {"assigned": "04", "in_progress": "05", "completed": "06"}.get(self.value)


# The open states' values, as the task store and its queries write them.
OPEN_STATES = tuple(s.value for s in TaskState if s.open)


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a task: a unit (its head and deputies act on it) or a person."""

    unit: str | None = None
    person: str | None = None

    def __post_init__(self) -> None:
        if (self.unit is None) == (self.person is None):
            raise ValueError("a holder is a unit or a person")

    @property
    def key(self) -> str:
        """Unique within an assignment: a document reaches each unit and person once."""
        return f"unit:{self.unit}" if self.unit is not None else f"person:{self.person}"


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    parent: str | None
    head: str | None
    deputies: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Organisation:
    """The agency's tree of units and who belongs to which, as the directory states it."""

    units: Mapping[str, Unit]
    members: Mapping[str, frozenset[str]]  # person id -> unit codes
    # Of the people looked up (forward targets): their clearance (mức được tiếp cận).
    clearances: Mapping[str, Clearance] = field(default_factory=dict)

    def leads(self, person: str, unit: str) -> bool:
        """Whether the person heads the unit or is one of its deputies."""
        u = self.units.get(unit)
        return u is not None and (u.head == person or person in u.deputies)

    def within(self, unit: str, top: str) -> bool:
        """Whether `unit` is `top` or lies below it."""
        seen: set[str] = set()
        current: str | None = unit
        while current is not None and current not in seen:
            if current == top:
                return True
            seen.add(current)
            parent = self.units.get(current)
            current = parent.parent if parent is not None else None
        return False

    def units_of(self, person: str) -> frozenset[str]:
        return self.members.get(person, frozenset())


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    assignment_id: str
    document_id: str
    parent_id: str | None
    role: Role
    holder: Holder
    deadline: date | None
    note: str
    state: TaskState
    created_by: str
    on_behalf_of: str | None
    created_at: datetime
    result: str = ""
    reply_document_id: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    reason: str = ""

    def held_by(self, person: str, org: Organisation) -> bool:
        """The person may act on the task: it is theirs, or their unit's and they lead it."""
        if self.holder.person is not None:
            return self.holder.person == person
        assert self.holder.unit is not None
        return org.leads(person, self.holder.unit)


@dataclass(frozen=True, slots=True)
class Target:
    holder: Holder
    role: Role


@dataclass(frozen=True, slots=True)
class Forward:
    """A unit head's forward of their unit's task: the targets, one note, one sub-deadline."""

    targets: tuple[Target, ...]
    note: str = ""
    deadline: date | None = None


def _text(value: str, limit: int, field_name: str, problems: dict[str, str]) -> str:
    clean = value.strip()
    if len(clean) > limit or CONTROL_RE.search(clean):
        problems[field_name] = f"must be at most {limit} printable characters"
    return clean


def _must_hold(task: Task, actor: str, org: Organisation) -> None:
    if not task.held_by(actor, org):
        raise PermissionDeniedError(
            "only the task's holder may do this: its person, or its unit's head or deputy",
            reason="TASK_NOT_HELD",
            metadata={"task_id": task.id},
        )


def _must_be_open(task: Task) -> None:
    if not task.state.open:
        raise FailedPreconditionError(
            f"the task is {task.state.value}", reason="TASK_CLOSED", metadata={"task_id": task.id}
        )


def forward(
    *,
    parent: Task,
    tree: Sequence[Task],
    request: Forward,
    actor: str,
    org: Organisation,
    today: date,
    secrecy: Secrecy = Secrecy.NONE,
) -> list[Target]:
    """The targets a forward may create, checked against the parent and the whole tree; raises
    with every problem named otherwise.

    - only a unit's task is forwarded, by the unit's head or deputy, while it is open;
    - targets lie in the forwarder's subtree: units below theirs, people of their unit or below;
    - the deadline is not after the parent's (none given: the parent's), nor before today;
    - nobody who already holds a task of this assignment is sent it again (ALREADY_ASSIGNED);
    - an informed task is forwarded as informed only;
    - a person is sent it only when cleared for the document's secrecy (`secrecy`).
    A task recalled from someone does not stop it being sent to them again (a head recalls to
    correct the note or the deadline, then sends anew).
    """
    _must_be_open(parent)
    if parent.holder.unit is None:
        raise FailedPreconditionError(
            "a person's task is handled, not forwarded; their unit's head forwards",
            reason="FORWARD_NOT_ALLOWED",
        )
    _must_hold(parent, actor, org)
    top = parent.holder.unit
    problems: dict[str, str] = {}
    if not request.targets:
        problems["to"] = "name at least one unit or person"
    if len(request.targets) > TARGETS_MAX:
        problems["to"] = f"at most {TARGETS_MAX} units or people at once"
    _text(request.note, NOTE_MAX, "note", problems)
    if request.deadline is not None:
        if request.deadline < today:
            problems["deadline"] = "cannot be in the past"
        elif parent.deadline is not None and request.deadline > parent.deadline:
            problems["deadline"] = (
                f"cannot be after the task's own deadline, {parent.deadline.isoformat()}"
            )
    taken = {
        t.holder.key: t
        for t in tree
        if t.assignment_id == parent.assignment_id and t.state is not TaskState.RECALLED
    }
    again: list[str] = []
    seen: set[str] = set()
    for i, target in enumerate(request.targets):
        where = f"to[{i}]"
        h = target.holder
        if h.key in seen:
            problems[where] = "is named twice"
            continue
        seen.add(h.key)
        if h.unit is not None:
            if h.unit not in org.units:
                problems[where] = f"no unit {h.unit}"
            elif h.unit == top or not org.within(h.unit, top):
                problems[where] = f"unit {h.unit} is not below {top}"
        elif not any(org.within(u, top) for u in org.units_of(h.person or "")):
            problems[where] = f"this person is not in {top} or a unit below it"
        else:
            cleared = org.clearances.get(h.person or "")
            if cleared is None or not cleared.covers(secrecy):
                problems[where] = "this person is not cleared for the document's secrecy"
        if parent.role is Role.INFORMED and target.role is not Role.INFORMED:
            problems[f"{where}.role"] = "an informed task is forwarded as informed only"
        if where not in problems and h.key in taken:
            again.append(h.key)
    if problems:
        raise invalid_fields(problems, reason="INVALID_FORWARD")
    if again:
        raise AlreadyExistsError(
            "already sent this document within the assignment: " + ", ".join(again),
            reason="ALREADY_ASSIGNED",
            metadata={"holders": ",".join(again)},
        )
    return list(request.targets)


def children(tree: Iterable[Task], task_id: str) -> list[Task]:
    return [t for t in tree if t.parent_id == task_id]


def subtree(tree: Sequence[Task], task_id: str) -> list[Task]:
    """The task's descendants, nearest first."""
    out: list[Task] = []
    frontier = [task_id]
    while frontier:
        below = [t for t in tree if t.parent_id in frontier]
        out.extend(below)
        frontier = [t.id for t in below]
    return out


def report_progress(*, task: Task, actor: str, org: Organisation, note: str) -> Task:
    _must_be_open(task)
    _must_hold(task, actor, org)
    problems: dict[str, str] = {}
    _text(note, NOTE_MAX, "note", problems)
    if problems:
        raise invalid_fields(problems, reason="INVALID_PROGRESS")
    return replace(task, state=TaskState.IN_PROGRESS)


def complete(
    *,
    task: Task,
    tree: Sequence[Task],
    actor: str,
    org: Organisation,
    result: str,
    reply_document_id: str | None,
    now: datetime,
) -> Task:
    """The holder completes with a result; not while a lead or coordinating task below it is
    open (informed ones are not waited for)."""
    _must_be_open(task)
    _must_hold(task, actor, org)
    problems: dict[str, str] = {}
    clean = _text(result, RESULT_MAX, "result", problems)
    if not clean and task.role is not Role.INFORMED:
        problems["result"] = "is required: what was done"
    if problems:
        raise invalid_fields(problems, reason="INVALID_COMPLETION")
    waiting = [t for t in children(tree, task.id) if t.state.open and t.role is not Role.INFORMED]
    if waiting:
        raise FailedPreconditionError(
            "tasks forwarded from this one are still open",
            reason="OPEN_SUBTASKS",
            metadata={"task_ids": ",".join(t.id for t in waiting)},
        )
    return replace(
        task,
        state=TaskState.COMPLETED,
        result=clean,
        reply_document_id=reply_document_id,
        closed_at=now,
        closed_by=actor,
    )


def give_back(*, task: Task, actor: str, org: Organisation, reason: str, now: datetime) -> Task:
    """The holder returns the task to whoever sent it, with a reason (misrouted, not theirs)."""
    _must_be_open(task)
    _must_hold(task, actor, org)
    problems: dict[str, str] = {}
    clean = _text(reason, NOTE_MAX, "reason", problems)
    if not clean:
        problems["reason"] = "is required: why the task is returned"
    if problems:
        raise invalid_fields(problems, reason="INVALID_RETURN")
    return replace(task, state=TaskState.RETURNED, reason=clean, closed_at=now, closed_by=actor)


def recall(
    *,
    task: Task,
    tree: Sequence[Task],
    actor: str,
    org: Organisation,
    is_leader: bool,
    now: datetime,
) -> list[Task]:
    """The forwarder (the holder of the parent) or a leader takes a task back, with every open
    task below it; returns the tasks as recalled."""
    _must_be_open(task)
    parent = next((t for t in tree if t.id == task.parent_id), None)
    if not is_leader and (parent is None or not parent.held_by(actor, org)):
        raise PermissionDeniedError(
            "only whoever forwarded the task, or a leader, may recall it",
            reason="RECALL_NOT_ALLOWED",
        )
    return taken_back([task, *open_below(tree, task.id)], by=actor, now=now)


def open_below(tree: Sequence[Task], task_id: str) -> list[Task]:
    """The open tasks forwarded from the task, at any depth."""
    return [t for t in subtree(tree, task_id) if t.state.open]


def taken_back(tasks: Iterable[Task], *, by: str, now: datetime) -> list[Task]:
    """The tasks as recalled by `by` at `now`."""
    return [replace(t, state=TaskState.RECALLED, closed_at=now, closed_by=by) for t in tasks]


def root_tasks(
    *,
    assignment_id: str,
    document_id: str,
    lead: Holder,
    coordinating: Iterable[Holder],
    informed: Iterable[Holder],
    deadline: date | None,
    created_by: str,
    on_behalf_of: str | None,
    now: datetime,
    new_id: Callable[[], str],
) -> list[Task]:
    """The tasks an assignment creates: one per unit or person it names, at the tree's root;
    the assignment's deadline for each (its opinion stays on the assignment, never copied)."""
    named = [
        (lead, Role.LEAD),
        *((h, Role.COORDINATING) for h in coordinating),
        *((h, Role.INFORMED) for h in informed),
    ]
    return [
        Task(
            id=new_id(),
            assignment_id=assignment_id,
            document_id=document_id,
            parent_id=None,
            role=role,
            holder=holder,
            deadline=deadline,
            note="",
            state=TaskState.ASSIGNED,
            created_by=created_by,
            on_behalf_of=on_behalf_of,
            created_at=now,
        )
        for holder, role in named
    ]
