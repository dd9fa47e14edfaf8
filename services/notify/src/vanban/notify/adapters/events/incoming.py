"""Consumer of `vanban.documents.incoming.registered`: a notice for every clerk."""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js import JetStreamContext

from vanban.contracts.documents.v1 import documents_pb2 as docpb
from vanban.contracts.documents.v1 import events_pb2 as docevents
from vanban.notify.adapters.transaction import ACTOR, NotifyTransaction
from vanban.notify.domain import service, webhooks
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


def _priority(value: int) -> str:
    known = docpb.Priority.DESCRIPTOR.values_by_number.get(value)
    return known.name.removeprefix("PRIORITY_").lower() if known else "unspecified"


def registered_cloud_event(
    event: docevents.IncomingDocumentRegistered, *, event_id: str, now: datetime
) -> str:
    """What an endpoint hears of a registered document: its register entry, no file."""
    document = event.document
    return webhooks.cloud_event(
        event_id=event_id,
        event_type=webhooks.INCOMING_REGISTERED,
        source=f"/agencies/{event.agency_code}/documents",
        subject=f"incoming-documents/{document.id}",
        time=event.occurred_at.ToDatetime(tzinfo=UTC) if event.HasField("occurred_at") else now,
        data={
            "id": document.id,
            "arrival_number": document.arrival_number,
            "arrival_year": document.arrival_year,
            "issuer_code": document.issuer_code,
            "issuer_name": document.issuer_name,
            "code_number": document.code_number,
            "code_notation": document.code_notation,
            "issued_date": document.issued_date,
            "document_type": document.document_type,
            "subject": document.subject,
            "priority": _priority(document.priority),
            "href": f"/v1/incoming-documents/{document.id}",
        },
    )


class IncomingRegisteredHandler:
    def __init__(self, *, people: People, email: bool = False) -> None:
        self._people = people
        self._email = email

    async def __call__(
        self,
        uow: UnitOfWork,
        event: docevents.IncomingDocumentRegistered,
        context: EventContext,
    ) -> None:
        # A failure here (the directory away) propagates: the platform redelivers the event.
        tx = NotifyTransaction(uow, actor=ACTOR)
        document = incoming_from_pb(event)
        now = datetime.now(UTC)
        await service.notify_incoming_registered(
            tx=tx,
            people=self._people,
            document=document,
            event_id=context.event_id,
            now=now,
            email=self._email,
        )
        # Systems have no clearance: they hear only of documents that are not secret.
        if document.secrecy is Secrecy.NONE:
            await webhooks.enqueue_event(
                tx.webhooks,
                event_type=webhooks.INCOMING_REGISTERED,
                event_id=context.event_id,
                body=registered_cloud_event(event, event_id=context.event_id, now=now),
                now=now,
            )


def incoming_registered_consumer(
    *,
    js: JetStreamContext,
    uow_factory: UnitOfWorkFactory,
    people: People,
    max_deliver: int,
    email: bool = False,
) -> EventConsumer[docevents.IncomingDocumentRegistered]:
    return EventConsumer(
        js=js,
        source_service=NOTIFY_INCOMING_REGISTERED.source,
        durable=DURABLE,
        subject=SUBJECT,
        message_type=docevents.IncomingDocumentRegistered,
        handler=IncomingRegisteredHandler(people=people, email=email),
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )
