"""Claims: a registered document, a leader's signature image or the agency seal keeps the
bytes it refers to from being collected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from nats.js import JetStreamContext

from vanban.archive.adapters.transaction import SERVICE_ACTOR, ArchiveTransaction
from vanban.archive.domain import service
from vanban.contracts.directory.v1.events_pb2 import AgencyUpdated, PersonUpserted
from vanban.contracts.documents.v1.events_pb2 import IncomingDocumentRegistered
from vanban.platform.db import UnitOfWork
from vanban.platform.events.consumer import EventConsumer, EventContext, Handler
from vanban.platform.events.durables import (
    ARCHIVE_AGENCY_UPDATED,
    ARCHIVE_INCOMING_REGISTERED,
    ARCHIVE_PERSON_UPSERTED,
    Durable,
)
from vanban.platform.events.nats import subject

INCOMING_REGISTERED = subject("documents", "incoming", "registered")
DURABLE = ARCHIVE_INCOMING_REGISTERED.name


async def on_incoming_registered(
    uow: UnitOfWork, event: IncomingDocumentRegistered, context: EventContext
) -> None:
    document = event.document
    await service.claim_object(
        tx=ArchiveTransaction(
            uow, actor=SERVICE_ACTOR, on_behalf_of=document.registered_by or None
        ),
        sha256=document.file.sha256,
        claimed_by=f"incoming-documents/{document.id}",
        now=datetime.now(UTC),
    )


# A lost claim lets the sweeper delete a registered document's file, so claims are retried for
# about 50 minutes (delays grow to 30 s) before they are dead-lettered.
CLAIM_MAX_DELIVER = 100


# The directory's images (leaders' signatures, the agency seal) are claimed from its events.
PERSON_UPSERTED = subject("directory", "person", "upserted")
AGENCY_UPDATED = subject("directory", "agency", "updated")


async def _claim_image(uow: UnitOfWork, sha256: str, claimed_by: str) -> None:
    if not sha256:
        return
    await service.claim_object(
        tx=ArchiveTransaction(uow, actor=SERVICE_ACTOR),
        sha256=sha256,
        claimed_by=claimed_by,
        now=datetime.now(UTC),
    )


async def on_person_upserted(uow: UnitOfWork, event: PersonUpserted, context: EventContext) -> None:
    await _claim_image(
        uow, event.person.signature_image.sha256, f"people/{event.person.id}/signature"
    )


async def on_agency_updated(uow: UnitOfWork, event: AgencyUpdated, context: EventContext) -> None:
    await _claim_image(uow, event.agency.seal_image.sha256, f"agency/{event.agency.code}/seal")


@dataclass(frozen=True)
class ClaimSource:
    """An event that refers to stored bytes, and how the archive claims them from it."""

    durable: Durable
    subject: str
    message_type: type[Message]
    handler: Handler[Any]


CLAIM_SOURCES = (
    ClaimSource(
        ARCHIVE_INCOMING_REGISTERED,
        INCOMING_REGISTERED,
        IncomingDocumentRegistered,
        on_incoming_registered,
    ),
    ClaimSource(ARCHIVE_PERSON_UPSERTED, PERSON_UPSERTED, PersonUpserted, on_person_upserted),
    ClaimSource(ARCHIVE_AGENCY_UPDATED, AGENCY_UPDATED, AgencyUpdated, on_agency_updated),
)


def claim_consumer(
    js: JetStreamContext, *, source: ClaimSource, uow_factory: Callable[[], UnitOfWork]
) -> EventConsumer[Any]:
    return EventConsumer(
        js=js,
        source_service=source.durable.source,
        durable=source.durable.name,
        subject=source.subject,
        message_type=source.message_type,
        handler=source.handler,
        uow_factory=uow_factory,
        max_deliver=CLAIM_MAX_DELIVER,
    )
