"""What the domain needs from the outside, as protocols the adapters implement."""

from __future__ import annotations

from typing import Protocol

from vanban.documents.domain.model import IncomingDocument
from vanban.platform.ports import TransactionPort


class IncomingRepository(Protocol):
    async def next_arrival_number(self, *, year: int, register: str) -> int:
        """Takes the next số đến of `register` in `year`; held until the transaction ends, so
        numbers stay gapless."""

    async def add(self, document: IncomingDocument) -> None: ...

    async def get(self, document_id: str) -> IncomingDocument | None: ...


class Transaction(TransactionPort, Protocol):
    """The unit of work as the domain sees it."""

    @property
    def incoming(self) -> IncomingRepository: ...

    def record_registered(self, document: IncomingDocument) -> None: ...
