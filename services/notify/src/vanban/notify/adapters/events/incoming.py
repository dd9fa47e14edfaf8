"""Consumer of `vanban.documents.incoming.registered`: a notice for every clerk."""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js import JetStreamContext

from vanban.contracts.documents.v1 import events_pb2 as docevents
from vanban.notify.adapters.transaction import ACTOR, NotifyTransaction
from vanban.notify.domain import service
from vanban.notify.domain.model import IncomingRegistered
from vanban.notify.domain.ports import People
from vanban.platform.clearance import Secrecy
from vanban.platform.convert import secrecy_from_pb
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import NOTIFY_INCOMING_REGISTERED
from vanban.platform.events.nats import subject

DURABLE = NOTIFY_INCOMING_REGISTERED.name
SUBJECT = subject(NOTIFY_INCOMING_REGISTERED.source, "incoming", "registered")


def incoming_from_pb(event: docevents.IncomingDocumentRegistered) -> IncomingRegistered:
    document = event.document
    return IncomingRegistered(
        document_id=document.id,
        arrival_number=document.arrival_number,
        arrival_year=document.arrival_year,
        issuer_name=document.issuer_name,
        code_number=document.code_number,
        code_notation=document.code_notation,
        subject=document.subject,
        # An unknown level is treated as the highest, so a newer producer never leaks an abstract.
        secrecy=secrecy_from_pb(document.secrecy) or Secrecy.TOP_SECRET,
    )


class IncomingRegisteredHandler:
    def __init__(self, *, people: People) -> None:
        self._people = people

    async def __call__(
        self,
        uow: UnitOfWork,
        event: docevents.IncomingDocumentRegistered,
        context: EventContext,
    ) -> None:
        # A failure here (the directory away) propagates: the platform redelivers the event.
        await service.notify_incoming_registered(
            tx=NotifyTransaction(uow, actor=ACTOR),
            people=self._people,
            document=incoming_from_pb(event),
            event_id=context.event_id,
            now=datetime.now(UTC),
        )


def incoming_registered_consumer(
    *,
    js: JetStreamContext,
    uow_factory: UnitOfWorkFactory,
    people: People,
    max_deliver: int,
) -> EventConsumer[docevents.IncomingDocumentRegistered]:
    return EventConsumer(
        js=js,
        source_service=NOTIFY_INCOMING_REGISTERED.source,
        durable=DURABLE,
        subject=SUBJECT,
        message_type=docevents.IncomingDocumentRegistered,
        handler=IncomingRegisteredHandler(people=people),
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )
