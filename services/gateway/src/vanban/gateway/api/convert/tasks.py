"""Tasks between the REST API and the workflow contract."""

from __future__ import annotations

from datetime import date

from vanban.contracts.workflow.v1 import workflow_pb2 as pb
from vanban.gateway.api.schemas.tasks import ForwardIn, TaskOut, TaskViewOut
from vanban.platform.convert import from_timestamp

_ROLES = {
    "lead": pb.TASK_ROLE_LEAD,
    "coordinating": pb.TASK_ROLE_COORDINATING,
    "informed": pb.TASK_ROLE_INFORMED,
}
_ROLE_NAMES = {v: k for k, v in _ROLES.items()}
# The contract's states by their API names.
_STATES = {
    pb.TASK_STATE_ASSIGNED: "assigned",
    pb.TASK_STATE_IN_PROGRESS: "in_progress",
    pb.TASK_STATE_COMPLETED: "completed",
    pb.TASK_STATE_RETURNED: "returned",
    pb.TASK_STATE_RECALLED: "recalled",
}
STATES_BY_NAME = {name: state for state, name in _STATES.items()}


def _who(value: object) -> str:
    return str(value) if value else ""


def forward_request(task_id: str, body: ForwardIn) -> pb.ForwardTaskRequest:
    return pb.ForwardTaskRequest(
        id=task_id,
        to=[
            pb.ForwardTarget(
                unit=t.unit or "",
                person_id=_who(t.person_id),
                role=_ROLES[t.role or body.role],
            )
            for t in body.to
        ],
        note=body.note,
        deadline=body.deadline.isoformat() if body.deadline else "",
        on_behalf_of=_who(body.on_behalf_of),
    )


def task_out(t: pb.Task) -> TaskOut:
    state = _STATES[t.state]
    return TaskOut(
        id=t.id,
        assignment_id=t.assignment_id,
        document_id=t.document_id,
        parent_id=t.parent_id or None,
        role=_ROLE_NAMES[t.role],
        holder_unit=t.holder_unit or None,
        holder_person=t.holder_person or None,
        deadline=date.fromisoformat(t.deadline) if t.deadline else None,
        note=t.note,
        state=state,
        # The workflow says which business status a state is (the exchange's, QCVN 102).
        status_code=t.exchange_status or None,
        created_by=t.created_by,
        on_behalf_of=t.on_behalf_of or None,
        created_at=from_timestamp(t.created_at),
        result=t.result,
        reply_document_id=t.reply_document_id or None,
        reason=t.reason,
        closed_at=from_timestamp(t.closed_at) if t.HasField("closed_at") else None,
        closed_by=t.closed_by or None,
    )


def task_view_out(answer: pb.GetTaskResponse) -> TaskViewOut:
    a = answer.assignment
    return TaskViewOut(
        task=task_out(answer.task),
        opinion=a.opinion,
        assigned_by=a.assigned_by,
        assignment_deadline=date.fromisoformat(a.deadline) if a.deadline else None,
        tree=[task_out(t) for t in answer.tree],
    )
