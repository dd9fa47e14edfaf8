"""Use cases of handling an assigned document (ADR 0010, 1): read a task with its assignment's
opinion and tree, forward, report progress, complete, return, recall. The rules are in `tasks`;
here the transaction, the caller's delegation, the audit and the events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from vanban.platform.clearance import Secrecy
from vanban.platform.errors import NotFoundError, PermissionDeniedError
from vanban.workflow.domain.model import Assignment
from vanban.workflow.domain.ports import Acting, HandlingPeers, HandlingTransaction
from vanban.workflow.domain.service import LEADER_ROLES, dues_of
from vanban.workflow.domain.tasks import (
    TARGETS_MAX,
    Forward,
    Organisation,
    Task,
    TaskState,
    complete,
    forward,
    give_back,
    open_below,
    recall,
    report_progress,
    taken_back,
)
from vanban.workflow.domain.values import id_or_not_found

# The delegation scope under which a deputy acts on the tasks of the person they stand in for.
HANDLE = "handle"
HEAD_ROLES = frozenset({"unit_head", "deputy_unit_head"})


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as every assignee reads it: the assignment's one opinion, and the whole tree."""

    task: Task
    assignment: Assignment
    tree: tuple[Task, ...]


def _acting_as(tx: HandlingTransaction, actor: Acting, on_behalf_of: str, now: datetime) -> str:
    """The person the caller acts as: themself, or the one whose delegation (scope `handle`)
    they hold now; the audit then names both."""
    if not on_behalf_of or on_behalf_of == actor.subject:
        return actor.subject
    if actor.delegation_from(on_behalf_of, HANDLE, now=now) is None:
        raise PermissionDeniedError(
            "you hold no delegation in force to handle tasks for this person",
            reason="DELEGATION_REQUIRED",
            metadata={"on_behalf_of": on_behalf_of},
        )
    tx.act_for(on_behalf_of)
    return on_behalf_of


def _may_read(
    person: str, roles: frozenset[str], tree: tuple[Task, ...], org: Organisation
) -> bool:
    """Leaders read every task; others while they hold (or held, and did not have taken back)
    a task of the assignment: a recalled task gives no more access."""
    return bool(roles & LEADER_ROLES) or any(
        t.held_by(person, org) for t in tree if t.state is not TaskState.RECALLED
    )


@dataclass(frozen=True, slots=True)
class _Opened:
    task: Task
    tree: tuple[Task, ...]
    org: Organisation
    secrecy: Secrecy


async def _open(
    tx: HandlingTransaction,
    peers: HandlingPeers,
    actor: Acting,
    *,
    person: str,
    task_id: str,
    lock: bool,
) -> _Opened:
    """The task, its tree and the organisation, once the caller (acting as `person`) may see
    it: they hold a task of the assignment or lead the agency, and are cleared for the document.
    Nothing is locked, nor anyone looked up, before that. `lock`: then the document's tasks are
    locked for the rest of the transaction (a reassignment or another forward waits), and the
    tree is read again under the lock."""
    task = await tx.tasks.get(
        id_or_not_found(task_id, what="task", reason="TASK_NOT_FOUND"), lock=False
    )
    if task is None:
        raise NotFoundError("no task with this id", reason="TASK_NOT_FOUND")
    tree = tuple(await tx.tasks.tree(task.assignment_id))
    org = await peers.organisation()
    if not _may_read(person, actor.roles, tree, org):
        # The units as kept a few seconds ago may not name a new head yet: ask before refusing.
        org = await peers.organisation(fresh=True)
    secrecy = await peers.document_secrecy(task.document_id)
    if (
        not _may_read(person, actor.roles, tree, org)
        or secrecy is None
        or not actor.clearance.covers(secrecy)
    ):
        raise NotFoundError("no task with this id", reason="TASK_NOT_FOUND")
    if lock:
        await tx.tasks.lock_document(task.document_id)
        locked = await tx.tasks.get(task.id, lock=True)
        assert locked is not None, "tasks are never deleted"
        task, tree = locked, tuple(await tx.tasks.tree(task.assignment_id))
    return _Opened(task=task, tree=tree, org=org, secrecy=secrecy)


async def read_task(
    *, tx: HandlingTransaction, peers: HandlingPeers, actor: Acting, task_id: str
) -> TaskView:
    """Anyone who holds a task of the assignment (or leads a unit holding one) reads it whole,
    and so do the agency's leaders, if cleared for the document; to anyone else it does not
    exist."""
    opened = await _open(tx, peers, actor, person=actor.subject, task_id=task_id, lock=False)
    assignment = await tx.assignments.get(opened.task.assignment_id)
    assert assignment is not None, "a task's assignment is kept"
    return TaskView(task=opened.task, assignment=assignment, tree=opened.tree)


async def forward_task(
    *,
    tx: HandlingTransaction,
    peers: HandlingPeers,
    actor: Acting,
    task_id: str,
    request: Forward,
    on_behalf_of: str,
    now: datetime,
    today: date,
) -> list[Task]:
    """The unit's head (or their delegate) forwards the unit's task down the unit: the new
    tasks, each with the forward's note and its deadline (the parent's when none is given)."""
    person = _acting_as(tx, actor, on_behalf_of, now)
    opened = await _open(tx, peers, actor, person=person, task_id=task_id, lock=True)
    parent, tree = opened.task, opened.tree
    # The targets are looked up only now that the caller may forward at all.
    people = [t.holder.person for t in request.targets if t.holder.person is not None]
    org = await peers.with_people(opened.org, people[:TARGETS_MAX])
    targets = forward(
        parent=parent,
        tree=tree,
        request=request,
        actor=person,
        org=org,
        today=today,
        secrecy=opened.secrecy,
    )
    note = request.note.strip()
    deadline = request.deadline or parent.deadline
    created = [
        Task(
            id=str(uuid.uuid4()),
            assignment_id=parent.assignment_id,
            document_id=parent.document_id,
            parent_id=parent.id,
            role=target.role,
            holder=target.holder,
            deadline=deadline,
            note=note,
            state=TaskState.ASSIGNED,
            created_by=actor.subject,
            on_behalf_of=person if person != actor.subject else None,
            created_at=now,
        )
        for target in targets
    ]
    await tx.tasks.add_all(created)
    await tx.tasks.schedule(await dues_of(tx, created, now))
    tx.record_forwarded(parent, created)
    tx.audit(
        action="task.forward",
        resource=f"tasks/{parent.id}",
        after={
            "task_ids": [t.id for t in created],
            "to": [t.holder.key for t in created],
            "roles": [t.role.value for t in created],
            "deadline": deadline.isoformat() if deadline else None,
        },
    )
    await tx.commit()
    return created


async def progress_task(
    *,
    tx: HandlingTransaction,
    peers: HandlingPeers,
    actor: Acting,
    task_id: str,
    note: str,
    on_behalf_of: str,
    now: datetime,
) -> Task:
    person = _acting_as(tx, actor, on_behalf_of, now)
    opened = await _open(tx, peers, actor, person=person, task_id=task_id, lock=True)
    task = opened.task
    moved = report_progress(task=task, actor=person, org=opened.org, note=note)
    await tx.tasks.update(moved)
    tx.audit(
        action="task.progress",
        resource=f"tasks/{task.id}",
        before={"state": task.state.value},
        after={"state": moved.state.value, "note": note.strip()},
    )
    await tx.commit()
    return moved


async def complete_task(
    *,
    tx: HandlingTransaction,
    peers: HandlingPeers,
    actor: Acting,
    task_id: str,
    result: str,
    reply_document_id: str | None,
    on_behalf_of: str,
    now: datetime,
) -> Task:
    person = _acting_as(tx, actor, on_behalf_of, now)
    opened = await _open(tx, peers, actor, person=person, task_id=task_id, lock=True)
    task = opened.task
    done = complete(
        task=task,
        tree=opened.tree,
        actor=person,
        org=opened.org,
        result=result,
        reply_document_id=reply_document_id,
        now=now,
    )
    done = replace(done, closed_by=actor.subject)
    await tx.tasks.update(done)
    tx.record_completed(done)
    tx.audit(
        action="task.complete",
        resource=f"tasks/{task.id}",
        before={"state": task.state.value},
        after={"state": done.state.value, "reply_document_id": reply_document_id},
    )
    await tx.commit()
    return done


async def return_task(
    *,
    tx: HandlingTransaction,
    peers: HandlingPeers,
    actor: Acting,
    task_id: str,
    reason: str,
    on_behalf_of: str,
    now: datetime,
) -> Task:
    person = _acting_as(tx, actor, on_behalf_of, now)
    opened = await _open(tx, peers, actor, person=person, task_id=task_id, lock=True)
    task = opened.task
    returned = replace(
        give_back(task=task, actor=person, org=opened.org, reason=reason, now=now),
        closed_by=actor.subject,
    )
    await tx.tasks.update(returned)
    # What was forwarded from it goes back with it: nothing below a returned task stays open.
    for below in taken_back(open_below(opened.tree, task.id), by=actor.subject, now=now):
        await tx.tasks.update(below)
    tx.record_returned(returned)
    tx.audit(
        action="task.return",
        resource=f"tasks/{task.id}",
        before={"state": task.state.value},
        after={"state": returned.state.value, "reason": returned.reason},
    )
    await tx.commit()
    return returned


async def recall_task(
    *,
    tx: HandlingTransaction,
    peers: HandlingPeers,
    actor: Acting,
    task_id: str,
    on_behalf_of: str,
    now: datetime,
) -> list[Task]:
    person = _acting_as(tx, actor, on_behalf_of, now)
    opened = await _open(tx, peers, actor, person=person, task_id=task_id, lock=True)
    task = opened.task
    leader = bool(actor.roles & LEADER_ROLES)
    recalled = recall(
        task=task, tree=opened.tree, actor=person, org=opened.org, is_leader=leader, now=now
    )
    recalled = [replace(t, closed_by=actor.subject) for t in recalled]
    for t in recalled:
        await tx.tasks.update(t)
    tx.audit(
        action="task.recall",
        resource=f"tasks/{task.id}",
        after={"task_ids": [t.id for t in recalled]},
    )
    await tx.commit()
    return recalled


PAGE_DEFAULT = 20
PAGE_MAX = 100


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: tuple[Task, ...]
    next_after: tuple[datetime, str] | None


async def my_tasks(
    *,
    tx: HandlingTransaction,
    peers: HandlingPeers,
    actor: Acting,
    states: tuple[TaskState, ...],
    size: int,
    after: tuple[datetime, str] | None,
) -> TaskPage:
    """The caller's tasks: their own, and those of the units they head or deputise."""
    org = await peers.organisation()
    led = sorted(code for code in org.units if org.leads(actor.subject, code))
    if not led and actor.roles & HEAD_ROLES:
        # A head the kept units do not name yet (just appointed): ask the directory now.
        org = await peers.organisation(fresh=True)
        led = sorted(code for code in org.units if org.leads(actor.subject, code))
    found = await tx.tasks.held(
        person=actor.subject, units=led, states=states, after=after, limit=size + 1
    )
    more = len(found) > size
    page = tuple(found[:size])
    last = page[-1] if page else None
    return TaskPage(
        tasks=page,
        next_after=(last.created_at, last.id) if more and last is not None else None,
    )
