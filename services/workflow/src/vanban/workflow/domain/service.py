"""Use cases of the workflow: the leader's assignment of an incoming document."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from vanban.platform.errors import NotFoundError, PermissionDeniedError, invalid_fields
from vanban.workflow.domain.calendar import DEFAULT_WORKING_DAYS, Priority, default_deadline
from vanban.workflow.domain.due import Due, due_for
from vanban.workflow.domain.model import Assignment, AssignmentDraft
from vanban.workflow.domain.ports import Acting, Peers, Transaction
from vanban.workflow.domain.tasks import Holder, Task, root_tasks

LEADER_ROLES = frozenset({"agency_leader", "deputy_agency_leader"})
ASSIGN = "assign"


async def assign_incoming(
    *,
    tx: Transaction,
    peers: Peers,
    actor: Acting,
    draft: AssignmentDraft,
    now: datetime,
    default_days: Mapping[Priority, int] = DEFAULT_WORKING_DAYS,
) -> Assignment:
    """Records the assignment. A leader assigns in their own name; anyone else only for a leader
    whose delegation with scope `assign` they hold at `now` — and the audit names both.

    The deadline is the date given, or working days counted on the agency's calendar from
    today, or, with neither, the default of the document's urgency (`default_days`)."""
    clean, deadline = draft.validated(today=now.date())
    on_behalf_of: str | None = None
    if clean.on_behalf_of and clean.on_behalf_of != actor.subject:
        if actor.delegation_from(clean.on_behalf_of, ASSIGN, now=now) is None:
            raise PermissionDeniedError(
                "you hold no delegation in force to assign for this person",
                reason="DELEGATION_REQUIRED",
                metadata={"on_behalf_of": clean.on_behalf_of},
            )
        if not await peers.is_leader(clean.on_behalf_of):
            raise PermissionDeniedError(
                "only an agency leader's assignments can be delegated", reason="NOT_A_LEADER"
            )
        on_behalf_of = clean.on_behalf_of
        tx.act_for(on_behalf_of)
    elif not actor.roles & LEADER_ROLES:
        raise PermissionDeniedError(
            "assigning needs an agency leader, or their delegation", reason="ROLE_REQUIRED"
        )
    # Whoever assigns must be cleared for the document; otherwise it does not exist for them.
    document = await peers.incoming(clean.document_id)
    if document is None or not actor.clearance.covers(document.secrecy):
        raise NotFoundError("no incoming document with this id", reason="INCOMING_NOT_FOUND")
    units = [u for u in (clean.lead_unit, *clean.coordinating_units, *clean.informed_units) if u]
    unknown = await peers.unknown_units(units)
    if unknown:
        raise invalid_fields(
            {"units": f"unknown unit codes: {', '.join(sorted(unknown))}"},
            reason="UNKNOWN_UNITS",
        )
    # People named must be active and cleared for the document (a unit's head reads it as
    # the unit's; a person named reads it as themself).
    refused = await peers.people_not_cleared(clean.people, document.secrecy)
    if refused:
        raise invalid_fields(
            {"people": f"unknown, inactive or not cleared: {', '.join(sorted(refused))}"},
            reason="UNKNOWN_PEOPLE",
        )
    if deadline is None:
        calendar = await tx.calendar.load()
        days = clean.deadline_working_days
        deadline = (
            calendar.add_working_days(now.date(), days)
            if days is not None
            else default_deadline(calendar, now.date(), document.priority, default_days)
        )
    assignment = Assignment(
        id=str(uuid.uuid4()),
        document_id=clean.document_id,
        lead_unit=clean.lead_unit,
        coordinating_units=clean.coordinating_units,
        informed_units=clean.informed_units,
        opinion=clean.opinion,
        deadline=deadline,
        assigned_by=actor.subject,
        on_behalf_of=on_behalf_of,
        assigned_at=now,
        lead_person=clean.lead_person or None,
        coordinating_people=clean.coordinating_people,
        informed_people=clean.informed_people,
        secrecy=document.secrecy,
    )
    # One document's assignments and forwards happen one after the other: a forward on the
    # former assignment cannot slip its tasks in while this one recalls them.
    await tx.tasks.lock_document(assignment.document_id)
    await tx.assignments.add(assignment)
    # Each unit named gets its task (ADR 0010, 1); a new assignment of the document replaces the
    # former one, whose open tasks are recalled.
    created = root_tasks(
        assignment_id=assignment.id,
        document_id=assignment.document_id,
        lead=(
            Holder(person=assignment.lead_person)
            if assignment.lead_person
            else Holder(unit=assignment.lead_unit)
        ),
        coordinating=[
            *(Holder(unit=u) for u in assignment.coordinating_units),
            *(Holder(person=p) for p in assignment.coordinating_people),
        ],
        informed=[
            *(Holder(unit=u) for u in assignment.informed_units),
            *(Holder(person=p) for p in assignment.informed_people),
        ],
        deadline=deadline,
        created_by=actor.subject,
        on_behalf_of=on_behalf_of,
        now=now,
        new_id=lambda: str(uuid.uuid4()),
    )
    await tx.tasks.add_all(created)
    await tx.tasks.schedule(await dues_of(tx, created, now))
    recalled = await tx.tasks.recall_open(
        assignment.document_id, keep_assignment=assignment.id, by=actor.subject, at=now
    )
    tx.record_assigned(assignment)
    tx.record_tasks_assigned(assignment, created)
    tx.audit(
        action="incoming.assign",
        resource=f"incoming-documents/{assignment.document_id}",
        after={
            "assignment_id": assignment.id,
            "lead_unit": assignment.lead_unit,
            "lead_person": assignment.lead_person,
            "coordinating_units": list(assignment.coordinating_units),
            "coordinating_people": list(assignment.coordinating_people),
            "informed_units": list(assignment.informed_units),
            "informed_people": list(assignment.informed_people),
            "deadline": deadline.isoformat() if deadline else None,
            "task_ids": [t.id for t in created],
            "recalled_task_ids": recalled,
        },
    )
    await tx.commit()
    return assignment


async def current_assignment(*, tx: Transaction, document_id: str) -> Assignment:
    try:
        uuid.UUID(document_id)
    except ValueError:
        raise NotFoundError(
            "the document has no assignment", reason="ASSIGNMENT_NOT_FOUND"
        ) from None
    assignment = await tx.assignments.current(document_id)
    if assignment is None:
        raise NotFoundError("the document has no assignment", reason="ASSIGNMENT_NOT_FOUND")
    return assignment


async def dues_of(tx: Transaction, created: Sequence[Task], now: datetime) -> list[Due]:
    """When the new tasks' reminders and overdue notices fall due (tasks with a deadline)."""
    with_deadline = [t for t in created if t.deadline is not None]
    if not with_deadline:
        return []
    calendar = await tx.calendar.load()
    tz = now.tzinfo
    assert tz is not None, "an aware time: the agency's"
    return [
        due
        for t in with_deadline
        if t.deadline is not None
        for due in due_for(task_id=t.id, deadline=t.deadline, calendar=calendar, tz=tz, now=now)
    ]
