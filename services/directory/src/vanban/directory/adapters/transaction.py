"""The domain's Transaction port on top of the platform's unit of work."""

from __future__ import annotations

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.contracts.directory.v1 import events_pb2
from vanban.directory.adapters.db.repository import (
    SqlAgencyRepository,
    SqlDelegationRepository,
    SqlPeopleRepository,
    SqlUnitRepository,
)
from vanban.directory.adapters.grpc.convert import (
    agency_to_pb,
    delegation_to_pb,
    person_to_pb,
    unit_to_pb,
)
from vanban.directory.domain import events
from vanban.platform.convert import to_timestamp
from vanban.platform.events.nats import subject
from vanban.platform.transaction import ServiceTransaction

AGENCY_UPDATED = subject("directory", "agency", "updated")
UNIT_UPSERTED = subject("directory", "unit", "upserted")
UNIT_DELETED = subject("directory", "unit", "deleted")
PERSON_UPSERTED = subject("directory", "person", "upserted")
PERSON_DEACTIVATED = subject("directory", "person", "deactivated")
DELEGATION_CREATED = subject("directory", "delegation", "created")
DELEGATION_REVOKED = subject("directory", "delegation", "revoked")


def event_message(event: events.DirectoryEvent) -> tuple[str, Message]:
    """The subject and protobuf payload of a domain event."""
    at = to_timestamp(event.occurred_at)
    # Events reach platform services only (never a person), so they carry every field.
    match event:
        case events.AgencyUpdated(agency=agency):
            return AGENCY_UPDATED, events_pb2.AgencyUpdated(
                agency=agency_to_pb(agency), occurred_at=at
            )
        case events.UnitUpserted(unit=unit):
            return UNIT_UPSERTED, events_pb2.UnitUpserted(unit=unit_to_pb(unit), occurred_at=at)
        case events.UnitDeleted(unit=unit):
            return UNIT_DELETED, events_pb2.UnitDeleted(unit=unit_to_pb(unit), occurred_at=at)
        case events.PersonUpserted(person=person):
            return PERSON_UPSERTED, events_pb2.PersonUpserted(
                person=person_to_pb(person, private=True), occurred_at=at
            )
        case events.PersonDeactivated(person=person):
            return PERSON_DEACTIVATED, events_pb2.PersonDeactivated(
                person=person_to_pb(person, private=True), occurred_at=at
            )
        case events.DelegationCreated(delegation=delegation):
            return DELEGATION_CREATED, events_pb2.DelegationCreated(
                delegation=delegation_to_pb(delegation, reasons=True), occurred_at=at
            )
        case events.DelegationRevoked(delegation=delegation):
            return DELEGATION_REVOKED, events_pb2.DelegationRevoked(
                delegation=delegation_to_pb(delegation, reasons=True), occurred_at=at
            )
    raise TypeError(f"no message for {type(event).__name__}")


class DirectoryTransaction(ServiceTransaction):
    def open_repositories(self, session: AsyncSession) -> None:
        self.agency = SqlAgencyRepository(session)
        self.units = SqlUnitRepository(session)
        self.people = SqlPeopleRepository(session)
        self.delegations = SqlDelegationRepository(session)

    def record(self, event: events.DirectoryEvent) -> None:
        self.record_event(*event_message(event))
