"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.directory.v1 import events_pb2
from vanban.directory.adapters.db.repository import SqlAgencyRepository, SqlPeopleRepository
from vanban.directory.adapters.grpc.convert import person_to_pb
from vanban.directory.domain.model import Person
from vanban.platform.db import UnitOfWork
from vanban.platform.events.nats import subject

PERSON_UPSERTED = subject("directory", "person", "upserted")


class DirectoryTransaction:
    def __init__(self, uow: UnitOfWork, *, actor: str) -> None:
        self._uow = uow
        self._actor = actor
        self.agency = SqlAgencyRepository(uow.session)
        self.people = SqlPeopleRepository(uow.session)

    def record_person_upserted(self, person: Person) -> None:
        occurred_at = Timestamp()
        occurred_at.FromDatetime(datetime.now(UTC))
        self._uow.record_event(
            PERSON_UPSERTED,
            events_pb2.PersonUpserted(person=person_to_pb(person), occurred_at=occurred_at),
        )

    def audit(
        self,
        *,
        action: str,
        resource: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> None:
        self._uow.audit(
            actor=self._actor, action=action, resource=resource, before=before, after=after
        )

    async def commit(self) -> None:
        await self._uow.commit()
