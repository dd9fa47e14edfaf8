"""What happened in the directory, as facts in the past tense; each becomes a `directory.*`
event published through the outbox with the change that caused it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vanban.directory.domain.delegation import Delegation
from vanban.directory.domain.model import Agency, Person
from vanban.directory.domain.unit import Unit


@dataclass(frozen=True, slots=True)
class AgencyUpdated:
    agency: Agency
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class UnitUpserted:
    unit: Unit
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class UnitDeleted:
    unit: Unit  # its last state
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class PersonUpserted:
    person: Person
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class PersonDeactivated:
    person: Person
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class DelegationCreated:
    delegation: Delegation
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class DelegationRevoked:
    delegation: Delegation
    occurred_at: datetime


DirectoryEvent = (
    AgencyUpdated
    | UnitUpserted
    | UnitDeleted
    | PersonUpserted
    | PersonDeactivated
    | DelegationCreated
    | DelegationRevoked
)
