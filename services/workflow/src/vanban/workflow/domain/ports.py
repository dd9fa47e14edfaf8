from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from vanban.platform.caller import Delegation
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.ports import TransactionPort
from vanban.workflow.domain.model import Assignment
from vanban.workflow.domain.tasks import Task


class Acting(Protocol):
    """The caller as the workflow sees it (the platform's Caller fits)."""

    @property
    def subject(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...

    @property
    def clearance(self) -> Clearance: ...

    def delegation_from(
        self, person_id: str, action: str, *, now: datetime
    ) -> Delegation | None: ...


class Peers(Protocol):
    """What the workflow asks other services, as itself."""

    async def document_secrecy(self, document_id: str) -> Secrecy | None:
        """The document's secrecy level, or None if there is no such document, or its level is
        one this workflow does not know (above every clearance: nobody here may assign it)."""

    async def is_leader(self, person_id: str) -> bool: ...

    async def unknown_units(self, codes: Iterable[str]) -> list[str]: ...


class AssignmentRepository(Protocol):
    async def add(self, assignment: Assignment) -> None: ...

    async def current(self, document_id: str) -> Assignment | None: ...


class TaskRepository(Protocol):
    async def add_all(self, new: Sequence[Task]) -> None: ...

    async def recall_open(
        self, document_id: str, *, keep_assignment: str, by: str, at: datetime
    ) -> list[str]:
        """Recalls the document's open tasks of every other assignment; the ids recalled."""


class Transaction(TransactionPort, Protocol):
    @property
    def assignments(self) -> AssignmentRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    def record_assigned(self, assignment: Assignment) -> None: ...

    def act_for(self, person_id: str) -> None:
        """Audit entries from now on say the actor acts for `person_id`."""
