"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.documents.v1 import events_pb2
from vanban.documents.adapters.db.repository import SqlIncomingRepository
from vanban.documents.adapters.grpc.convert import incoming_to_pb
from vanban.documents.domain.model import IncomingDocument
from vanban.platform.caller import Caller
from vanban.platform.db import UnitOfWork
from vanban.platform.events.nats import subject

INCOMING_REGISTERED = subject("documents", "incoming", "registered")


class DocumentsTransaction:
    def __init__(self, uow: UnitOfWork, *, caller: Caller) -> None:
        self._uow = uow
        self._caller = caller
        self.incoming = SqlIncomingRepository(uow.session)

    def record_registered(self, document: IncomingDocument) -> None:
        occurred_at = Timestamp()
        occurred_at.FromDatetime(datetime.now(UTC))
        self._uow.record_event(
            INCOMING_REGISTERED,
            events_pb2.IncomingDocumentRegistered(
                document=incoming_to_pb(document),
                agency_code=self._caller.agency_code,
                occurred_at=occurred_at,
            ),
        )

    def audit(self, *, action: str, resource: str, after: dict[str, object]) -> None:
        self._uow.audit(actor=self._caller.subject, action=action, resource=resource, after=after)

    async def commit(self) -> None:
        await self._uow.commit()
