from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from vanban.platform.caller import Delegation
from vanban.platform.clearance import Clearance, Secrecy
from vanban.platform.ports import TransactionPort
from vanban.workflow.domain.calendar import CalendarDay, Priority, WorkCalendar
from vanban.workflow.domain.due import Due
from vanban.workflow.domain.model import Assignment
from vanban.workflow.domain.tasks import Organisation, Task, TaskState


class Acting(Protocol):
    """The caller as the workflow sees it (the platform's Caller fits)."""

    @property
    def subject(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...

    @property
    def clearance(self) -> Clearance: ...

    @property
    def units(self) -> tuple[str, ...]: ...

    @property
    def is_service(self) -> bool: ...

    def delegation_from(
        self, person_id: str, action: str, *, now: datetime
    ) -> Delegation | None: ...


@dataclass(frozen=True, slots=True)
class IncomingFacts:
    """What an assignment needs to know of the document: who may read it, how urgent it is."""

    secrecy: Secrecy
    priority: Priority


class Peers(Protocol):
    """What the workflow asks other services, as itself."""

    async def incoming(self, document_id: str) -> IncomingFacts | None:
        """None if there is no such incoming document, or its secrecy or urgency is a level this
        workflow does not know (above every clearance: nobody here may assign it)."""

    async def is_leader(self, person_id: str) -> bool: ...

    async def unknown_units(self, codes: Iterable[str]) -> list[str]: ...

    async def people_not_cleared(self, people: Iterable[str], secrecy: Secrecy) -> list[str]:
        """Of `people`, those unknown, inactive, or not cleared for `secrecy`."""


class AssignmentRepository(Protocol):
    async def add(self, assignment: Assignment) -> None: ...

    async def get(self, assignment_id: str) -> Assignment | None: ...

    async def current(self, document_id: str) -> Assignment | None: ...


class TaskRepository(Protocol):
    async def add_all(self, new: Sequence[Task]) -> None: ...

    async def lock_document(self, document_id: str) -> None:
        """Holds the document's tasks for the rest of the transaction: assignments, forwards and
        recalls of one document happen one after the other."""

    async def schedule(self, dues: Sequence[Due]) -> None:
        """Records when the tasks' reminders and overdue notices fall due."""

    async def waiting_reminders(self, first: date, last: date) -> list[tuple[str, date, datetime]]:
        """Reminders not yet sent of open tasks whose deadline is in [first, last]: (task id,
        deadline, when the reminder is due)."""

    async def move_reminders(self, moved: Sequence[tuple[str, datetime]]) -> None:
        """Sets when each task's reminder is due."""

    async def recall_open(
        self, document_id: str, *, keep_assignment: str, by: str, at: datetime
    ) -> list[str]:
        """Recalls the document's open tasks of every other assignment; the ids recalled."""


class CalendarRepository(Protocol):
    async def load(self) -> WorkCalendar:
        """The working calendar: every exception entered (holidays, Saturdays worked)."""

    async def year(self, year: int) -> list[CalendarDay]: ...

    async def replace_year(self, year: int, days: Sequence[CalendarDay]) -> None: ...


class Transaction(TransactionPort, Protocol):
    @property
    def assignments(self) -> AssignmentRepository: ...

    @property
    def calendar(self) -> CalendarRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    def record_assigned(self, assignment: Assignment) -> None: ...

    def record_tasks_assigned(self, assignment: Assignment, created: Sequence[Task]) -> None:
        """The tasks the assignment created (`workflow.task.assigned`)."""

    def act_for(self, person_id: str) -> None:
        """Audit entries from now on say the actor acts for `person_id`."""


class HandlingPeers(Protocol):
    async def organisation(self, *, fresh: bool = False) -> Organisation:
        """The agency's units (tree, heads, deputies), as kept for a few seconds; `fresh`: as
        the directory states them now."""

    async def with_people(self, org: Organisation, people: Iterable[str]) -> Organisation:
        """`org` with the units and clearance of each of `people`."""

    async def document_secrecy(self, document_id: str) -> Secrecy | None: ...


class HandlingTasks(TaskRepository, Protocol):
    async def get(self, task_id: str, *, lock: bool) -> Task | None:
        """The task; `lock`: held until the transaction ends (FOR UPDATE)."""

    async def tree(self, assignment_id: str) -> list[Task]:
        """Every task of the assignment, oldest first."""

    async def update(self, task: Task) -> None: ...

    async def held(
        self,
        *,
        person: str,
        units: Sequence[str],
        states: Sequence[TaskState],
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Task]:
        """Tasks of `person` or of `units`, in `states` (all when empty), newest first, after
        the (created_at, id) position."""


class HandlingTransaction(Transaction, Protocol):
    """What handling a task needs beyond an assignment (ADR 0010, 1)."""

    @property
    def tasks(self) -> HandlingTasks: ...

    def record_forwarded(self, parent: Task, created: Sequence[Task]) -> None: ...

    def record_completed(self, task: Task) -> None: ...

    def record_returned(self, task: Task) -> None: ...
