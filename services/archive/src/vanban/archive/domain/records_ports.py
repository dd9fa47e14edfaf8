"""What the records use cases need from the outside."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from vanban.archive.domain.dossier_list import ListEntry
from vanban.archive.domain.ports import ObjectRepository, UploadRepository
from vanban.archive.domain.records import (
    Disposition,
    DocumentKind,
    Dossier,
    DossierDocument,
    DossierFile,
    DossierState,
    Keeping,
)
from vanban.platform.ports import TransactionPort


class DossierListRepository(Protocol):
    async def lock_year(self, year: int) -> None:
        """Holds the year's list until the transaction ends, even while it has no entry."""
        ...

    async def entries(
        self, year: int, *, lock: bool = False
    ) -> list[tuple[ListEntry, datetime | None, str | None]]: ...

    async def get(
        self, year: int, code: str, *, lock: bool = False
    ) -> tuple[ListEntry, datetime | None] | None: ...

    async def upsert(self, entries: Sequence[ListEntry], *, by: str, at: datetime) -> int: ...

    async def approve(self, year: int, *, by: str, at: datetime) -> list[str]: ...

    async def opened(self, year: int) -> dict[str, str]: ...


class DossierRepository(Protocol):
    async def get(self, dossier_id: str, *, lock: bool = False) -> Dossier | None: ...

    async def add(self, dossier: Dossier) -> bool: ...

    async def save(self, dossier: Dossier) -> None: ...

    async def page(
        self,
        *,
        year: int,
        state: DossierState | None,
        handover_before: date | None,
        after: tuple[str, str] | None,
        limit: int,
    ) -> list[Dossier]: ...

    async def due_for_warning(self, *, ended_before: date, limit: int) -> list[str]: ...

    async def past_retention(self, *, ended_before: date) -> list[str]: ...

    async def holding(self, document_ids: Collection[str]) -> dict[str, set[str]]: ...

    async def states(self, dossier_ids: Collection[str]) -> dict[str, DossierState]: ...

    async def held_files(self, *, excluding: str) -> set[str]:
        """The files of every dossier on legal hold but `excluding`."""


class DispositionRepository(Protocol):
    async def add(self, disposition: Disposition) -> None: ...

    async def proposed_elsewhere(self, dossier_ids: Collection[str]) -> dict[str, str]: ...

    async def get(self, disposition_id: str, *, lock: bool = False) -> Disposition | None: ...

    async def save(self, disposition: Disposition) -> None: ...

    async def page(self, *, after: tuple[str, str] | None, limit: int) -> list[Disposition]: ...


class ClaimRepository(Protocol):
    async def add(self, sha256: str, *, claimed_by: str, at: datetime) -> None: ...

    async def holders(self, sha256s: Collection[str]) -> dict[str, set[str]]: ...

    async def by(self, claimers: Collection[str]) -> set[str]: ...

    async def keeping(self, sha256s: Collection[str]) -> dict[str, Keeping]:
        """How each object still held is kept (destroyed ones are left out)."""

    async def mark_locked(self, sha256s: Collection[str], *, until: datetime, mode: str) -> None:
        """Keeps the later of the lock dates."""

    async def set_hold(self, sha256s: Collection[str], *, on: bool) -> None: ...

    async def claim_fixity_due(
        self, *, share: float, maximum: int, now: datetime
    ) -> list[tuple[str, int]]:
        """`share` of the objects held, those checked longest ago first (never checked first),
        taken for this run: marked checked at `now` in the caller's transaction, skipping rows
        another run holds, so that runs of several replicas never check one object together."""

    async def release_fixity(self, sha256s: Collection[str], *, claimed_at: datetime) -> None:
        """Gives back objects taken at `claimed_at` and not read: first in line next time."""

    async def record_fixity(self, sha256: str, *, at: datetime, problem: str | None) -> None: ...

    async def mark_destroyed(self, sha256s: Collection[str], *, at: datetime) -> None:
        """The bytes are gone: the row stays, its holders are forgotten."""


class RecordsTransaction(TransactionPort, Protocol):
    @property
    def objects(self) -> ObjectRepository: ...

    @property
    def uploads(self) -> UploadRepository: ...

    @property
    def dossier_list(self) -> DossierListRepository: ...

    @property
    def dossiers(self) -> DossierRepository: ...

    @property
    def dispositions(self) -> DispositionRepository: ...

    @property
    def claims(self) -> ClaimRepository: ...

    def record_dossier_closed(self, dossier: Dossier) -> None: ...

    def record_dossier_handed_over(self, dossier: Dossier) -> None: ...

    def record_handover_due(self, dossier: Dossier) -> None: ...

    def record_fixity_failed(self, sha256: str, *, problem: str, at: datetime) -> None: ...

    def record_dossier_disposed(
        self, dossier: Dossier, *, disposition_id: str, document_ids: Sequence[str]
    ) -> None: ...


RecordsTransactions = Callable[[], AbstractAsyncContextManager[RecordsTransaction]]


@dataclass(frozen=True, slots=True)
class FoundDocument:
    """A document as documents shows it to the caller, with its status."""

    document: DossierDocument
    status: str
    # A disposition destroyed it: its files are gone.
    destroyed: bool = False


class PageCounter(Protocol):
    async def pages(self, file: DossierFile) -> int:
        """The pages of a kept file; 0 when it is not a PDF that opens."""


class DirectoryPort(Protocol):
    async def person_ids(self, usernames: Collection[str]) -> dict[str, str]:
        """Username → person id of those the directory knows (active or not)."""

    async def unit_codes(self) -> set[str]:
        """Every unit code of the agency."""


class DocumentsPort(Protocol):
    async def find(
        self, document_id: str, *, kind: DocumentKind | None, added_by: str, now: datetime
    ) -> FoundDocument:
        """The document as the caller of the call being served may open it; NOT_FOUND or
        PERMISSION_DENIED otherwise (documents decides)."""

    async def mark_archived(
        self,
        documents: Sequence[tuple[DocumentKind, str]],
        *,
        dossier_id: str,
        disposition_id: str = "",
    ) -> int:
        """As the archive service: the documents become read-only (or destroyed)."""
