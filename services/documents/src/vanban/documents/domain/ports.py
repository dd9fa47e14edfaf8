"""What the domain needs from the outside, as protocols the adapters implement."""

from __future__ import annotations

from typing import Protocol

from vanban.documents.domain.model import IncomingDocument
from vanban.documents.domain.numbering import CancelledNumber
from vanban.platform.ports import TransactionPort


class IncomingRepository(Protocol):
    async def next_arrival_number(self, *, year: int, register: str) -> int:
        """Takes the next số đến of `register` in `year`; held until the transaction ends, so
        numbers stay gapless."""

    async def add(self, document: IncomingDocument) -> None: ...

    async def get(self, document_id: str) -> IncomingDocument | None: ...


class RegisterRepository(Protocol):
    """The numbers of a register's year (`numbering.register_year`), used inside the caller's
    transaction."""

    async def take_number(self, register_id: str, year: int) -> int:
        """Takes the next number (1 for a fresh year), `numbering.next_number` of the last one.
        Gapless and safe across replicas: another transaction taking a number of the same register
        and year waits until this one ends, and a rollback gives the number back."""

    async def last_issued(self, register_id: str, year: int) -> int:
        """The last number taken in the year (committed or taken in this transaction); 0 if
        none."""

    async def cancellations(self, register_id: str, year: int) -> list[CancelledNumber]: ...

    async def add_cancellation(self, cancelled: CancelledNumber) -> None:
        """Keeps a cancellation (made by `numbering.cancel_number`); the number stays taken.
        AlreadyExistsError NUMBER_ALREADY_CANCELLED when it is already cancelled."""


class Transaction(TransactionPort, Protocol):
    """The unit of work as the domain sees it."""

    @property
    def incoming(self) -> IncomingRepository: ...

    @property
    def registers(self) -> RegisterRepository: ...

    def record_registered(self, document: IncomingDocument) -> None: ...
