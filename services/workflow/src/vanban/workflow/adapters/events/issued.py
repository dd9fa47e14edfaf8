"""Consumer of `vanban.documents.outgoing.issued`: a numbered draft closes its approval."""

from __future__ import annotations

from nats.js import JetStreamContext

from vanban.contracts.documents.v1 import events_pb2 as docevents
from vanban.platform.convert import from_timestamp
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import WORKFLOW_OUTGOING_ISSUED
from vanban.platform.events.nats import subject
from vanban.workflow.adapters.transaction import WorkflowTransaction
from vanban.workflow.domain import approving

SUBJECT = subject(WORKFLOW_OUTGOING_ISSUED.source, "outgoing", "issued")


async def handle_issued(
    uow: UnitOfWork, event: docevents.OutgoingDocumentIssued, context: EventContext
) -> None:
    document = event.document
    by = document.issued_by or "service:documents"
    await approving.record_issued(
        tx=WorkflowTransaction(uow, actor=by),
        document_id=document.id,
        version=document.current_version,
        by=by,
        now=from_timestamp(event.occurred_at),
    )


def issued_consumer(
    *, js: JetStreamContext, uow_factory: UnitOfWorkFactory, max_deliver: int
) -> EventConsumer[docevents.OutgoingDocumentIssued]:
    return EventConsumer(
        js=js,
        source_service=WORKFLOW_OUTGOING_ISSUED.source,
        durable=WORKFLOW_OUTGOING_ISSUED.name,
        subject=SUBJECT,
        message_type=docevents.OutgoingDocumentIssued,
        handler=handle_issued,
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )
