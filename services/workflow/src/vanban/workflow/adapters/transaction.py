"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.workflow.v1 import events_pb2
from vanban.platform.db import UnitOfWork
from vanban.platform.events.nats import subject
from vanban.workflow.adapters.db.repository import SqlAssignments
from vanban.workflow.adapters.grpc.convert import assignment_to_pb
from vanban.workflow.domain.model import Assignment

INCOMING_ASSIGNED = subject("workflow", "incoming", "assigned")


class WorkflowTransaction:
    def __init__(self, uow: UnitOfWork, *, actor: str) -> None:
        self._uow = uow
        self._actor = actor
        self.assignments = SqlAssignments(uow.session)

    def record_assigned(self, assignment: Assignment) -> None:
        occurred_at = Timestamp()
        occurred_at.FromDatetime(datetime.now(UTC))
        self._uow.record_event(
            INCOMING_ASSIGNED,
            events_pb2.IncomingDocumentAssigned(
                assignment=assignment_to_pb(assignment), occurred_at=occurred_at
            ),
        )

    def audit(
        self, *, action: str, resource: str, after: dict[str, object], on_behalf_of: str | None
    ) -> None:
        self._uow.audit(
            actor=self._actor,
            action=action,
            resource=resource,
            after=after,
            on_behalf_of=on_behalf_of,
        )

    async def commit(self) -> None:
        await self._uow.commit()
