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
from vanban.contracts.documents.v1.events_pb2 import (
    IncomingDocumentRegistered,
    OutgoingDocumentDrafted,
)
from vanban.contracts.exchange.v1.events_pb2 import EvidenceRecorded
from vanban.contracts.signing.v1.events_pb2 import DocumentSigned
from vanban.platform.db import UnitOfWork
from vanban.platform.events.consumer import EventConsumer, EventContext, Handler
from vanban.platform.events.durables import (
    ARCHIVE_AGENCY_UPDATED,
    ARCHIVE_DOCUMENT_SIGNED,
    ARCHIVE_EXCHANGE_EVIDENCE,
    ARCHIVE_INCOMING_REGISTERED,
    ARCHIVE_OUTGOING_DRAFTED,
    ARCHIVE_PERSON_UPSERTED,
    Durable,
)
from vanban.platform.events.nats import subject

INCOMING_REGISTERED = subject("documents", "incoming", "registered")
OUTGOING_DRAFTED = subject("documents", "outgoing", "drafted")
DURABLE = ARCHIVE_INCOMING_REGISTERED.name


async def on_incoming_registered(
    uow: UnitOfWork, event: IncomingDocumentRegistered, context: EventContext
) -> None:
    """The registered file and each attachment are claimed by the document."""
    document = event.document
    tx = ArchiveTransaction(uow, actor=SERVICE_ACTOR, on_behalf_of=document.registered_by or None)
    for file in (document.file, *document.attachments):
        await service.claim_object(
            tx=tx,
            sha256=file.sha256,
            claimed_by=f"incoming-documents/{document.id}",
            now=datetime.now(UTC),
        )


async def on_outgoing_drafted(
    uow: UnitOfWork, event: OutgoingDocumentDrafted, context: EventContext
) -> None:
    """Every version of a draft keeps its file: the version the event is about is claimed."""
    document = event.document
    for version in document.versions:
        if version.version == event.version:
            await service.claim_object(
                tx=ArchiveTransaction(
                    uow, actor=SERVICE_ACTOR, on_behalf_of=version.uploaded_by or None
                ),
                sha256=version.file.sha256,
                claimed_by=f"outgoing-documents/{document.id}",
                now=datetime.now(UTC),
            )


DOCUMENT_SIGNED = subject("signing", "document", "signed")


async def on_document_signed(uow: UnitOfWork, event: DocumentSigned, context: EventContext) -> None:
    """A signed PDF is kept by the document it signs, like its versions."""
    signature = event.signature
    await service.claim_object(
        tx=ArchiveTransaction(uow, actor=SERVICE_ACTOR, on_behalf_of=signature.signed_by or None),
        sha256=signature.file.sha256,
        claimed_by=f"outgoing-documents/{signature.document_id}",
        now=datetime.now(UTC),
    )


EVIDENCE_RECORDED = subject("exchange", "evidence", "recorded")


async def on_evidence_recorded(
    uow: UnitOfWork, event: EvidenceRecorded, context: EventContext
) -> None:
    """A package or status message kept as exchange evidence keeps its signed bytes, and the
    files a received package brought, for the entry (ADR 0012). A refused package's entry
    names no bytes: they were never kept."""
    tx = ArchiveTransaction(uow, actor=SERVICE_ACTOR)
    for file in (event.xml, *event.files):
        if not file.sha256:
            continue
        await service.claim_object(
            tx=tx,
            sha256=file.sha256,
            claimed_by=f"exchange/evidence/{event.sequence}",
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
    ClaimSource(
        ARCHIVE_OUTGOING_DRAFTED, OUTGOING_DRAFTED, OutgoingDocumentDrafted, on_outgoing_drafted
    ),
    ClaimSource(ARCHIVE_DOCUMENT_SIGNED, DOCUMENT_SIGNED, DocumentSigned, on_document_signed),
    ClaimSource(ARCHIVE_PERSON_UPSERTED, PERSON_UPSERTED, PersonUpserted, on_person_upserted),
    ClaimSource(ARCHIVE_AGENCY_UPDATED, AGENCY_UPDATED, AgencyUpdated, on_agency_updated),
    ClaimSource(
        ARCHIVE_EXCHANGE_EVIDENCE, EVIDENCE_RECORDED, EvidenceRecorded, on_evidence_recorded
    ),
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
