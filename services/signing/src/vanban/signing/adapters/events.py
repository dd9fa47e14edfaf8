"""Consumer of `vanban.documents.outgoing.issued`: the agency's signature is made automatically
on a document issued with its leader's signature (ADR 0011, batch and automatic signing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nats.js import JetStreamContext

from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.documents.v1 import events_pb2 as docevents
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import SIGNING_OUTGOING_ISSUED
from vanban.platform.events.nats import subject

SUBJECT = subject(SIGNING_OUTGOING_ISSUED.source, "outgoing", "issued")


def issued_consumer(
    *,
    js: JetStreamContext,
    uow_factory: UnitOfWorkFactory,
    max_deliver: int,
    sign: Callable[[documents_pb2.OutgoingDocument], Awaitable[None]],
) -> EventConsumer[docevents.OutgoingDocumentIssued]:
    async def handle(
        uow: UnitOfWork, event: docevents.OutgoingDocumentIssued, context: EventContext
    ) -> None:
        await sign(event.document)

    return EventConsumer(
        js=js,
        source_service=SIGNING_OUTGOING_ISSUED.source,
        durable=SIGNING_OUTGOING_ISSUED.name,
        subject=SUBJECT,
        message_type=docevents.OutgoingDocumentIssued,
        handler=handle,
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )
