"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from vanban.contracts.documents.v1 import events_pb2
from vanban.documents.adapters.db.archive import SqlArchiveRepository
from vanban.documents.adapters.db.registers import SqlRegisterRepository
from vanban.documents.adapters.db.repository import (
    SqlCatalogue,
    SqlDocumentLinks,
    SqlIncomingRepository,
    SqlOutgoingRepository,
    SqlTextJobs,
)
from vanban.documents.adapters.grpc.convert import DIRECTION_TO_PB, incoming_to_pb, outgoing_to_pb
from vanban.documents.domain.model import IncomingDocument
from vanban.documents.domain.outgoing import OutgoingDocument
from vanban.platform.caller import Caller
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.events.nats import subject
from vanban.platform.transaction import ServiceTransaction

INCOMING_REGISTERED = subject("documents", "incoming", "registered")
OUTGOING_DRAFTED = subject("documents", "outgoing", "drafted")
OUTGOING_ISSUED = subject("documents", "outgoing", "issued")
DOCUMENT_UPDATED = subject("documents", "document", "updated")
DOCUMENT_RECALLED = subject("documents", "document", "recalled")


def document_updated(
    document_id: str, direction: str, *, changed: Sequence[str], agency_code: str
) -> events_pb2.DocumentUpdated:
    """The `documents.document.updated` event, as the service and the text worker record it."""
    return events_pb2.DocumentUpdated(
        document_id=document_id,
        direction=DIRECTION_TO_PB[direction],
        changed=list(changed),
        agency_code=agency_code,
        occurred_at=to_timestamp(),
    )


class DocumentsTransaction(ServiceTransaction):
    def __init__(self, uow: UnitOfWork, *, caller: Caller) -> None:
        super().__init__(uow, actor=caller.subject)
        self._agency_code = caller.agency_code

    def open_repositories(self, session: AsyncSession) -> None:
        self.catalogue = SqlCatalogue(session)
        self.incoming = SqlIncomingRepository(session)
        self.outgoing = SqlOutgoingRepository(session)
        self.links = SqlDocumentLinks(session)
        self.text_jobs = SqlTextJobs(session)
        self.registers = SqlRegisterRepository(session)
        self.archive = SqlArchiveRepository(session)

    def record_registered(self, document: IncomingDocument) -> None:
        self.record_event(
            INCOMING_REGISTERED,
            events_pb2.IncomingDocumentRegistered(
                document=incoming_to_pb(document),
                agency_code=self._agency_code,
                occurred_at=to_timestamp(),
            ),
        )

    def record_drafted(self, document: OutgoingDocument) -> None:
        self.record_event(
            OUTGOING_DRAFTED,
            events_pb2.OutgoingDocumentDrafted(
                document=outgoing_to_pb(document),
                agency_code=self._agency_code,
                occurred_at=to_timestamp(),
                version=document.current.version,
            ),
        )

    def record_issued(self, document: OutgoingDocument) -> None:
        self.record_event(
            OUTGOING_ISSUED,
            events_pb2.OutgoingDocumentIssued(
                document=outgoing_to_pb(document),
                agency_code=self._agency_code,
                occurred_at=to_timestamp(),
            ),
        )

    def record_recalled(self, document_id: str, direction: str, recalled_by: str) -> None:
        self.record_event(
            DOCUMENT_RECALLED,
            events_pb2.DocumentRecalled(
                document_id=document_id,
                recalled_by=recalled_by,
                agency_code=self._agency_code,
                occurred_at=to_timestamp(),
                direction=DIRECTION_TO_PB[direction],
            ),
        )

    def record_updated(self, document_id: str, direction: str, *, changed: Sequence[str]) -> None:
        self.record_event(
            DOCUMENT_UPDATED,
            document_updated(
                document_id, direction, changed=changed, agency_code=self._agency_code
            ),
        )
