from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from vanban.workflow.domain.model import Assignment


class Acting(Protocol):
    """The caller as the workflow sees it (the platform's Caller fits)."""

    @property
    def subject(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...

    @property
    def clearance(self) -> str: ...

    def delegation_from(
        self, person_id: str, action: str, *, now: datetime
    ) -> dict[str, str] | None: ...


class Peers(Protocol):
    """What the workflow asks other services, as itself."""

    async def document_secrecy(self, document_id: str) -> str | None:
        """The document's secrecy level (none, confidential, ...), or None if there is none."""

    async def is_leader(self, person_id: str) -> bool: ...

    async def unknown_units(self, codes: Iterable[str]) -> list[str]: ...


class AssignmentRepository(Protocol):
    async def add(self, assignment: Assignment) -> None: ...

    async def current(self, document_id: str) -> Assignment | None: ...


class Transaction(Protocol):
    assignments: AssignmentRepository

    def record_assigned(self, assignment: Assignment) -> None: ...

    def audit(
        self, *, action: str, resource: str, after: dict[str, object], on_behalf_of: str | None
    ) -> None: ...

    async def commit(self) -> None: ...
