"""Consumer of `vanban.signing.document.signed`: an outgoing document's package leaves once the
agency signature is on it (ADR 0012)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nats.js import JetStreamContext

from vanban.contracts.signing.v1 import events_pb2 as signing_events
from vanban.contracts.signing.v1 import signing_pb2
from vanban.platform.db import UnitOfWork, UnitOfWorkFactory
from vanban.platform.events.consumer import EventConsumer, EventContext
from vanban.platform.events.durables import EXCHANGE_DOCUMENT_SIGNED
from vanban.platform.events.nats import subject

SUBJECT = subject(EXCHANGE_DOCUMENT_SIGNED.source, "document", "signed")


def signed_consumer(
    *,
    js: JetStreamContext,
    uow_factory: UnitOfWorkFactory,
    max_deliver: int,
    send: Callable[[UnitOfWork, signing_pb2.Signature], Awaitable[None]],
) -> EventConsumer[signing_events.DocumentSigned]:
    async def handle(
        uow: UnitOfWork, event: signing_events.DocumentSigned, context: EventContext
    ) -> None:
        await send(uow, event.signature)

    return EventConsumer(
        js=js,
        source_service=EXCHANGE_DOCUMENT_SIGNED.source,
        durable=EXCHANGE_DOCUMENT_SIGNED.name,
        subject=SUBJECT,
        message_type=signing_events.DocumentSigned,
        handler=handle,
        uow_factory=uow_factory,
        max_deliver=max_deliver,
    )
