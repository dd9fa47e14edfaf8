"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vanban.contracts.workflow.v1 import events_pb2
from vanban.platform.convert import to_timestamp
from vanban.platform.events.nats import subject
from vanban.platform.transaction import ServiceTransaction
from vanban.workflow.adapters.db.repository import SqlAssignments, SqlTasks
from vanban.workflow.adapters.grpc.convert import assignment_to_pb
from vanban.workflow.domain.model import Assignment

INCOMING_ASSIGNED = subject("workflow", "incoming", "assigned")


class WorkflowTransaction(ServiceTransaction):
    def open_repositories(self, session: AsyncSession) -> None:
        self.assignments = SqlAssignments(session)
        self.tasks = SqlTasks(session)

    def record_assigned(self, assignment: Assignment) -> None:
        self.record_event(
            INCOMING_ASSIGNED,
            events_pb2.IncomingDocumentAssigned(
                assignment=assignment_to_pb(assignment), occurred_at=to_timestamp()
            ),
        )
