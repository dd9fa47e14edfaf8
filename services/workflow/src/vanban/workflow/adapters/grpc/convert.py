from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.platform.convert import to_timestamp
from vanban.platform.errors import invalid_fields
from vanban.workflow.domain.approvals import Approval, ApprovalAction, ApprovalState
from vanban.workflow.domain.calendar import CalendarDay
from vanban.workflow.domain.dossiers import WorkDossier
from vanban.workflow.domain.model import Assignment, AssignmentDraft
from vanban.workflow.domain.stats import Counts
from vanban.workflow.domain.tasks import (
    TARGETS_MAX,
    Forward,
    Holder,
    Role,
    Target,
    Task,
    TaskState,
)


def draft_from_request(request: pb.AssignIncomingDocumentRequest) -> AssignmentDraft:
    return AssignmentDraft(
        document_id=request.document_id,
        lead_unit=request.lead_unit,
        coordinating_units=tuple(request.coordinating_units),
        informed_units=tuple(request.informed_units),
        opinion=request.opinion,
        deadline=request.deadline,
        on_behalf_of=request.on_behalf_of,
        lead_person=request.lead_person,
        coordinating_people=tuple(request.coordinating_people),
        informed_people=tuple(request.informed_people),
        deadline_working_days=(
            request.deadline_working_days if request.HasField("deadline_working_days") else None
        ),
    )


def assignment_to_pb(assignment: Assignment) -> pb.Assignment:
    return pb.Assignment(
        id=assignment.id,
        document_id=assignment.document_id,
        lead_unit=assignment.lead_unit,
        coordinating_units=list(assignment.coordinating_units),
        informed_units=list(assignment.informed_units),
        opinion=assignment.opinion,
        deadline=assignment.deadline.isoformat() if assignment.deadline else "",
        assigned_by=assignment.assigned_by,
        on_behalf_of=assignment.on_behalf_of or "",
        assigned_at=to_timestamp(assignment.assigned_at),
        lead_person=assignment.lead_person or "",
        coordinating_people=list(assignment.coordinating_people),
        informed_people=list(assignment.informed_people),
    )


# Exceptions a year may hold: every day of it, at most.
CALENDAR_DAYS_MAX = 366

ROLE_TO_PB = {
    Role.LEAD: pb.TASK_ROLE_LEAD,
    Role.COORDINATING: pb.TASK_ROLE_COORDINATING,
    Role.INFORMED: pb.TASK_ROLE_INFORMED,
}
ROLE_FROM_PB = {v: k for k, v in ROLE_TO_PB.items()}
STATE_TO_PB = {
    TaskState.ASSIGNED: pb.TASK_STATE_ASSIGNED,
    TaskState.IN_PROGRESS: pb.TASK_STATE_IN_PROGRESS,
    TaskState.COMPLETED: pb.TASK_STATE_COMPLETED,
    TaskState.RETURNED: pb.TASK_STATE_RETURNED,
    TaskState.RECALLED: pb.TASK_STATE_RECALLED,
}
STATE_FROM_PB = {v: k for k, v in STATE_TO_PB.items()}


def task_to_pb(task: Task) -> pb.Task:
    message = pb.Task(
        id=task.id,
        assignment_id=task.assignment_id,
        document_id=task.document_id,
        parent_id=task.parent_id or "",
        role=ROLE_TO_PB[task.role],
        holder_unit=task.holder.unit or "",
        holder_person=task.holder.person or "",
        deadline=task.deadline.isoformat() if task.deadline else "",
        note=task.note,
        state=STATE_TO_PB[task.state],
        created_by=task.created_by,
        on_behalf_of=task.on_behalf_of or "",
        created_at=to_timestamp(task.created_at),
        result=task.result,
        reply_document_id=task.reply_document_id or "",
        reason=task.reason,
        closed_by=task.closed_by or "",
        exchange_status=task.state.exchange_status or "",
    )
    if task.closed_at is not None:
        message.closed_at.CopyFrom(to_timestamp(task.closed_at))
    return message


def forward_from_request(request: pb.ForwardTaskRequest) -> Forward:
    """The forward as asked; every field that cannot be read is named at once."""
    problems: dict[str, str] = {}
    if len(request.to) > TARGETS_MAX:
        raise invalid_fields(
            {"to": f"at most {TARGETS_MAX} units or people at once"}, reason="INVALID_FORWARD"
        )
    targets: list[Target] = []
    for i, target in enumerate(request.to):
        unit, person = target.unit.strip(), target.person_id.strip()
        if bool(unit) == bool(person):
            problems[f"to[{i}]"] = "name a unit or a person, one of the two"
            continue
        role = ROLE_FROM_PB.get(target.role)
        if role is None:
            problems[f"to[{i}].role"] = "is required: lead, coordinating or informed"
            continue
        holder = Holder(unit=unit) if unit else Holder(person=person)
        targets.append(Target(holder=holder, role=role))
    deadline = None
    if request.deadline:
        try:
            if len(request.deadline) != 10:
                raise ValueError
            deadline = date.fromisoformat(request.deadline)
        except ValueError:
            problems["deadline"] = "must be a date written YYYY-MM-DD"
    if problems:
        raise invalid_fields(problems, reason="INVALID_FORWARD")
    return Forward(targets=tuple(targets), note=request.note, deadline=deadline)


def calendar_day_to_pb(day: CalendarDay) -> pb.CalendarDay:
    return pb.CalendarDay(day=day.day.isoformat(), working=day.working, name=day.name)


def calendar_days_from_pb(days: Sequence[pb.CalendarDay]) -> list[CalendarDay]:
    """The days as sent; a day that is not YYYY-MM-DD is named with every other problem."""
    problems: dict[str, str] = {}
    out: list[CalendarDay] = []
    if len(days) > CALENDAR_DAYS_MAX:
        raise invalid_fields(
            {"days": f"at most {CALENDAR_DAYS_MAX} days a year"}, reason="INVALID_CALENDAR"
        )
    for i, d in enumerate(days):
        try:
            if len(d.day) != 10:
                raise ValueError
            day = date.fromisoformat(d.day)
        except ValueError:
            problems[f"days[{i}].day"] = "must be a date written YYYY-MM-DD"
            continue
        out.append(CalendarDay(day=day, working=d.working, name=d.name))
    if problems:
        raise invalid_fields(problems, reason="INVALID_CALENDAR")
    return out


APPROVAL_STATE_TO_PB = {
    ApprovalState.PENDING: pb.APPROVAL_STATE_PENDING,
    ApprovalState.APPROVED: pb.APPROVAL_STATE_APPROVED,
    ApprovalState.RETURNED: pb.APPROVAL_STATE_RETURNED,
    ApprovalState.ISSUED: pb.APPROVAL_STATE_ISSUED,
    ApprovalState.NUMBERING: pb.APPROVAL_STATE_NUMBERING,
}


def approval_to_pb(approval: Approval) -> pb.Approval:
    return pb.Approval(
        id=approval.id,
        document_id=approval.document_id,
        document_type=approval.document_type,
        drafting_unit=approval.drafting_unit,
        signer_id=approval.signer,
        steps=[s.value for s in approval.steps],
        step=approval.step.value if approval.step is not None else "",
        state=APPROVAL_STATE_TO_PB[approval.state],
        round=approval.round,
        version=approval.version,
        submitted_by=approval.submitted_by,
        submitted_at=to_timestamp(approval.submitted_at),
        updated_at=to_timestamp(approval.updated_at),
        waiting_for=approval.waiting_for or "",
    )


def approval_action_to_pb(action: ApprovalAction) -> pb.ApprovalAction:
    return pb.ApprovalAction(
        round=action.round,
        step=action.step,
        decision=action.decision.value,
        actor=action.actor,
        on_behalf_of=action.on_behalf_of or "",
        comment=action.comment,
        version=action.version,
        at=to_timestamp(action.at),
    )


def counts_to_pb(counts: Counts) -> pb.HandlingCounts:
    return pb.HandlingCounts(
        received=counts.received,
        completed_on_time=counts.completed_on_time,
        completed_late=counts.completed_late,
        in_progress=counts.in_progress,
        overdue=counts.overdue,
        returned=counts.returned,
    )


def dossier_to_pb(dossier: WorkDossier) -> pb.WorkDossier:
    out = pb.WorkDossier(
        id=dossier.id,
        title=dossier.title,
        description=dossier.description,
        owner=dossier.owner,
        created_at=to_timestamp(dossier.created_at),
        items=[
            pb.WorkDossierItem(
                kind=i.kind.value,
                ref_id=i.ref_id,
                note=i.note,
                added_by=i.added_by,
                added_at=to_timestamp(i.added_at),
            )
            for i in dossier.items
        ],
    )
    if dossier.closed_at is not None:
        out.closed_at.CopyFrom(to_timestamp(dossier.closed_at))
    return out
