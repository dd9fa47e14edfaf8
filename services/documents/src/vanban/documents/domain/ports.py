"""What the domain needs from the outside, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from vanban.documents.domain.document_types import DocumentType
from vanban.documents.domain.model import (
    ArchiveRecord,
    DocumentStatus,
    Duplicate,
    IncomingDocument,
)
from vanban.documents.domain.numbering import CancelledNumber, Register
from vanban.documents.domain.outgoing import OutgoingDocument, Signature
from vanban.platform.clearance import Secrecy
from vanban.platform.ports import TransactionPort


class CatalogueRepository(Protocol):
    """The agency's document types and registers (configuration kept as data)."""

    async def document_type(self, name: str) -> DocumentType | None:
        """The active type of that exact name, or None."""

    async def registers(self) -> list[Register]:
        """Every active register."""


class IncomingRepository(Protocol):
    async def add(self, document: IncomingDocument) -> None: ...

    async def get(self, document_id: str, *, for_update: bool = False) -> IncomingDocument | None:
        """`for_update` locks the row until the transaction ends (a withdrawal)."""

    async def find_duplicates(self, document: IncomingDocument) -> list[Duplicate]:
        """Incoming documents registered before with the same identifier, or the same issuer
        and số + ký hiệu (compared as search terms: "5/QD-UBND" is "05/QĐ-UBND")."""

    async def add_duplicates(
        self, document_id: str, duplicates: Sequence[Duplicate], at: datetime
    ) -> None: ...

    async def remember_request(self, request_id: str, document_id: str, at: datetime) -> None:
        """Binds a registration's request id to the document it registered (idempotency)."""


class OutgoingRepository(Protocol):
    async def add(self, document: OutgoingDocument) -> None:
        """A new draft with its first version."""

    async def get(self, document_id: str, *, for_update: bool = False) -> OutgoingDocument | None:
        """`for_update` locks the row until the transaction ends (versions and issue)."""

    async def add_version(self, document: OutgoingDocument) -> None:
        """Stores the document's last version and its new current version."""

    async def mark_issued(self, document: OutgoingDocument) -> None:
        """Writes the number, date and identifier of an issued document."""

    async def mark_cancelled(self, document: OutgoingDocument) -> None:
        """Sets the status of an issued document, locked by this transaction, to cancelled (its
        number, date and identifier stay; the reason is the register's cancellation)."""

    async def add_signature(self, document_id: str, signature: Signature, *, at: datetime) -> None:
        """Stores a signature of a document locked by this transaction (`with_signature`
        checked it); `at`, when it was recorded, is the document's last change."""


@dataclass(frozen=True, slots=True)
class Linked:
    """What a relation needs to know of the document it names."""

    direction: str  # "incoming" or "outgoing"
    secrecy: Secrecy
    # The issuing agency's mã định danh (an incoming document's sender; ours once issued).
    issuer_code: str | None = None
    # Who may read it besides the read-all roles (`reach`).
    reach: tuple[str, ...] = ()
    status: DocumentStatus | None = None
    # Set when the agency archive keeps it: a recall cannot change it.
    archive: ArchiveRecord | None = None


class DocumentLinks(Protocol):
    async def existing(
        self, document_ids: Sequence[str], *, locking: Collection[str] = ()
    ) -> dict[str, Linked]:
        """Those of these ids that are documents of this registry. Those in `locking` (the
        documents a recall will change) are locked until the transaction ends first, so that
        what is answered of them stays true until then."""

    async def mark_recalled(
        self, document_ids: Sequence[str], recalled_by: str
    ) -> list[tuple[str, str]]:
        """Marks issued or registered documents recalled; the (id, direction) of those it
        changed."""


@dataclass(frozen=True, slots=True)
class Held:
    """A document as the archive's mark finds it."""

    direction: str  # "incoming" or "outgoing"
    archive: ArchiveRecord | None


class ArchiveRepository(Protocol):
    """The records of the agency archive on the registry's documents (`ArchiveRecord`)."""

    async def lock(self, document_ids: Sequence[str]) -> dict[str, Held]:
        """Those of these ids that are documents of this registry, with their records, each
        locked until the transaction ends (in the order of their ids, so two marks never wait
        for each other in a cycle): a change under way ends first, and none starts before the
        marks are committed."""

    async def add(self, records: Mapping[str, ArchiveRecord]) -> None:
        """Keeps the first record of each of these documents (by id), locked by `lock`."""

    async def destroy(self, records: Mapping[str, ArchiveRecord]) -> None:
        """Writes the destruction (`destroyed_at`, `disposition_id`) into the records these
        documents already have."""

    async def erase_contents(self, document_ids: Sequence[str]) -> None:
        """What the registry read from the files of destroyed documents goes with the files:
        their extracted text and the body words of their search vector (the head fields stay
        searchable), and their text jobs still to do end failed."""


class TextJobs(Protocol):
    async def queue(self, *, document_id: str, sha256: str, now: datetime) -> None:
        """Asks the text worker to extract the text of this file of the document."""


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
    def catalogue(self) -> CatalogueRepository: ...

    @property
    def incoming(self) -> IncomingRepository: ...

    @property
    def outgoing(self) -> OutgoingRepository: ...

    @property
    def links(self) -> DocumentLinks: ...

    @property
    def text_jobs(self) -> TextJobs: ...

    @property
    def registers(self) -> RegisterRepository: ...

    @property
    def archive(self) -> ArchiveRepository: ...

    def record_registered(self, document: IncomingDocument) -> None: ...

    def record_drafted(self, document: OutgoingDocument) -> None: ...

    def record_issued(self, document: OutgoingDocument) -> None: ...

    def record_recalled(self, document_id: str, direction: str, recalled_by: str) -> None: ...

    def record_updated(self, document_id: str, direction: str, *, changed: Sequence[str]) -> None:
        """documents.document.updated: these fields of the document changed."""


class ApprovalGate(Protocol):
    @property
    def requires_leader_signature(self) -> bool:
        """Whether a draft is numbered only once its current version carries the leader's
        digital signature: where the approval chain is in force, its `sign` step signs."""

    async def check(self, document_id: str, version: int) -> None:
        """Refuses (FailedPreconditionError NOT_APPROVED, DRAFT_CHANGED) numbering a draft that
        has not passed its approval chain in `version`."""
