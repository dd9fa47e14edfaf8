"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vanban.contracts.documents.v1 import events_pb2
from vanban.documents.adapters.db.registers import SqlRegisterRepository
from vanban.documents.adapters.db.repository import SqlIncomingRepository
from vanban.documents.adapters.grpc.convert import incoming_to_pb
from vanban.documents.domain.model import IncomingDocument
from vanban.platform.caller import Caller
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.events.nats import subject
from vanban.platform.transaction import ServiceTransaction

INCOMING_REGISTERED = subject("documents", "incoming", "registered")


class DocumentsTransaction(ServiceTransaction):
    def __init__(self, uow: UnitOfWork, *, caller: Caller) -> None:
        super().__init__(uow, actor=caller.subject)
        self._agency_code = caller.agency_code

    def open_repositories(self, session: AsyncSession) -> None:
        self.incoming = SqlIncomingRepository(session)
        self.registers = SqlRegisterRepository(session)

    def record_registered(self, document: IncomingDocument) -> None:
        self.record_event(
            INCOMING_REGISTERED,
            events_pb2.IncomingDocumentRegistered(
                document=incoming_to_pb(document),
                agency_code=self._agency_code,
                occurred_at=to_timestamp(),
            ),
        )
