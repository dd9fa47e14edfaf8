"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from vanban.contracts.workflow.v1 import events_pb2
from vanban.platform.convert import to_timestamp
from vanban.platform.events.nats import subject
from vanban.platform.transaction import ServiceTransaction
from vanban.workflow.adapters.db.approvals import SqlApprovals
from vanban.workflow.adapters.db.dossiers import SqlDossiers
from vanban.workflow.adapters.db.repository import SqlAssignments, SqlCalendar, SqlTasks
from vanban.workflow.adapters.grpc.convert import (
    approval_action_to_pb,
    approval_to_pb,
    assignment_to_pb,
    task_to_pb,
)
from vanban.workflow.domain.approvals import Approval, ApprovalAction
from vanban.workflow.domain.model import Assignment
from vanban.workflow.domain.tasks import Task

INCOMING_ASSIGNED = subject("workflow", "incoming", "assigned")
TASK_ASSIGNED = subject("workflow", "task", "assigned")
TASK_FORWARDED = subject("workflow", "task", "forwarded")
TASK_COMPLETED = subject("workflow", "task", "completed")
TASK_RETURNED = subject("workflow", "task", "returned")
APPROVAL_REQUESTED = subject("workflow", "approval", "requested")
APPROVAL_DECIDED = subject("workflow", "approval", "decided")


class WorkflowTransaction(ServiceTransaction):
    def open_repositories(self, session: AsyncSession) -> None:
        self.assignments = SqlAssignments(session)
        self.tasks = SqlTasks(session)
        self.calendar = SqlCalendar(session)
        self.approvals = SqlApprovals(session)
        self.dossiers = SqlDossiers(session)

    def record_assigned(self, assignment: Assignment) -> None:
        self.record_event(
            INCOMING_ASSIGNED,
            events_pb2.IncomingDocumentAssigned(
                assignment=assignment_to_pb(assignment), occurred_at=to_timestamp()
            ),
        )

    def record_tasks_assigned(self, assignment: Assignment, created: Sequence[Task]) -> None:
        self.record_event(
            TASK_ASSIGNED,
            events_pb2.TaskAssigned(
                assignment=assignment_to_pb(assignment),
                tasks=[task_to_pb(t) for t in created],
                occurred_at=to_timestamp(),
            ),
        )

    def record_forwarded(self, parent: Task, created: Sequence[Task]) -> None:
        self.record_event(
            TASK_FORWARDED,
            events_pb2.TaskForwarded(
                parent=task_to_pb(parent),
                tasks=[task_to_pb(t) for t in created],
                occurred_at=to_timestamp(),
            ),
        )

    def record_completed(self, task: Task) -> None:
        self.record_event(
            TASK_COMPLETED,
            events_pb2.TaskCompleted(task=task_to_pb(task), occurred_at=to_timestamp()),
        )

    def record_returned(self, task: Task) -> None:
        self.record_event(
            TASK_RETURNED,
            events_pb2.TaskReturned(task=task_to_pb(task), occurred_at=to_timestamp()),
        )

    def record_approval_requested(self, approval: Approval) -> None:
        self.record_event(
            APPROVAL_REQUESTED,
            events_pb2.ApprovalRequested(
                approval=approval_to_pb(approval), occurred_at=to_timestamp()
            ),
        )

    def record_approval_decided(self, approval: Approval, action: ApprovalAction) -> None:
        self.record_event(
            APPROVAL_DECIDED,
            events_pb2.ApprovalDecided(
                approval=approval_to_pb(approval),
                action=approval_action_to_pb(action),
                occurred_at=to_timestamp(),
            ),
        )
