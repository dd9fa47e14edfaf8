"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from vanban.archive.adapters.db.repository import SqlObjectRepository, SqlUploadRepository
from vanban.archive.adapters.grpc.convert import object_to_pb
from vanban.archive.domain.model import StoredObject
from vanban.archive.domain.ports import Transactions
from vanban.contracts.archive.v1 import events_pb2
from vanban.platform.db import UnitOfWork
from vanban.platform.events.nats import subject

OBJECT_STORED = subject("archive", "object", "stored")
# The actor of work the archive does on its own (claims from events, collection).
SERVICE_ACTOR = "service:archive"


class ArchiveTransaction:
    def __init__(self, uow: UnitOfWork, *, actor: str, on_behalf_of: str | None = None) -> None:
        self._uow = uow
        self._actor = actor
        self._on_behalf_of = on_behalf_of
        self.objects = SqlObjectRepository(uow.session)
        self.uploads = SqlUploadRepository(uow.session)

    def record_stored(self, obj: StoredObject) -> None:
        self._uow.record_event(OBJECT_STORED, events_pb2.ObjectStored(object=object_to_pb(obj)))

    def audit(
        self,
        *,
        action: str,
        resource: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> None:
        self._uow.audit(
            actor=self._actor,
            on_behalf_of=self._on_behalf_of,
            action=action,
            resource=resource,
            before=before,
            after=after,
        )

    async def commit(self) -> None:
        await self._uow.commit()


def transactions(uow_factory: Callable[[], UnitOfWork], *, actor: str) -> Transactions:
    """Opens one ArchiveTransaction per use, acting as `actor` in the audit log."""

    @contextlib.asynccontextmanager
    async def open_transaction() -> AsyncIterator[ArchiveTransaction]:
        async with uow_factory() as uow:
            yield ArchiveTransaction(uow, actor=actor)

    return open_transaction
