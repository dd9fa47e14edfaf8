"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vanban.archive.adapters.db.repository import SqlObjectRepository, SqlUploadRepository
from vanban.archive.adapters.grpc.convert import object_to_pb
from vanban.archive.domain.model import StoredObject
from vanban.contracts.archive.v1 import events_pb2
from vanban.platform.events.nats import subject
from vanban.platform.transaction import ServiceTransaction

OBJECT_STORED = subject("archive", "object", "stored")
# The actor of work the archive does on its own (claims from events, collection).
SERVICE_ACTOR = "service:archive"


class ArchiveTransaction(ServiceTransaction):
    def open_repositories(self, session: AsyncSession) -> None:
        self.objects = SqlObjectRepository(session)
        self.uploads = SqlUploadRepository(session)

    def record_stored(self, obj: StoredObject) -> None:
        self.record_event(OBJECT_STORED, events_pb2.ObjectStored(object=object_to_pb(obj)))
