"""Dossiers (hồ sơ) and their life in the agency archive (Decree 30/2020 arts. 28-30,
Circular 01/2019): opened from an approved entry of the year's dossier list, filled with
documents by reference, closed, handed over (nộp lưu), and destroyed by a disposition once
their retention has ended. Pure rules: no I/O."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from vanban.platform.caller import Caller
from vanban.platform.clearance import Clearance
from vanban.platform.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    invalid_fields,
)

ARCHIVIST = "archivist"
LEADERS = ("agency_leader", "deputy_agency_leader")
ADMIN = "admin"
# One dossier holds at most this many documents: a dossier is one matter or one year's series,
# and its exports are built in one go.
MAX_DOCUMENTS = 2000
# A dossier is handed over within one year after its work ended (Decree 30 art. 29); the
# archive warns this many days before.
HANDOVER_WARNING_DAYS = 30
LANGUAGE = "vi"


class DossierState(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    HANDED_OVER = "handed_over"
    DISPOSED = "disposed"


class DocumentKind(enum.Enum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"

    @classmethod
    def parse(cls, value: str) -> DocumentKind | None:
        """None for empty (either kind); an unknown kind is refused."""
        text = value.strip().lower()
        if not text:
            return None
        try:
            return cls(text)
        except ValueError:
            raise invalid_fields(
                {"kind": "must be incoming or outgoing"}, reason="INVALID_ARGUMENT"
            ) from None


def validated_id(value: str, *, field: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise invalid_fields({field: "must be a UUID"}, reason="INVALID_ARGUMENT") from None


def file_code(*, agency_code: str, year: int, list_code: str) -> str:
    """Mã hồ sơ (appendix VI FileCode): the agency identifier, the year the dossier was formed
    and its code in the dossier list, e.g. `000.00.00.H99.2026.01.TCCB`."""
    return f"{agency_code}.{year}.{list_code}"


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, slots=True)
class DossierFile:
    sha256: str
    size: int
    content_type: str
    file_name: str


@dataclass(frozen=True, slots=True)
class DossierDocument:
    """A document held by reference: what the dossier shows of it, as it was when added."""

    kind: DocumentKind
    document_id: str
    identifier: str
    code_number: str
    code_notation: str
    issued_date: date | None
    issuer_name: str
    document_type: str
    subject: str
    page_amount: int
    secrecy: Clearance
    # What the dossier keeps and exports: the registered (or signed, issued) file, then the
    # attachments.
    files: tuple[DossierFile, ...]
    added_by: str
    added_at: datetime

    @property
    def code(self) -> str:
        if self.code_number and self.code_notation:
            return f"{self.code_number}/{self.code_notation}"
        return self.code_number or self.code_notation


@dataclass(frozen=True, slots=True)
class Dossier:
    """Hồ sơ, with the appendix VI fields of Circular 01/2019."""

    id: str
    year: int
    list_code: str
    file_code: str
    title: str
    retention: str
    # None: permanent.
    retention_years: int | None
    access: str
    creator_unit: str
    responsible: str
    opened_by: str
    opened_at: datetime
    state: DossierState = DossierState.OPEN
    # The directory's person id of `responsible` (empty when the list names nobody).
    responsible_id: str = ""
    description: str = ""
    language: str = LANGUAGE
    start_date: date | None = None
    end_date: date | None = None
    doc_total: int = 0
    page_total: int = 0
    # The highest secrecy of its documents: who may not know of it may not see the dossier.
    secrecy: Clearance = Clearance.NONE
    closed_at: datetime | None = None
    closed_by: str = ""
    handed_over_at: datetime | None = None
    handed_over_by: str = ""
    handover_record: DossierFile | None = None
    handover_warned_at: datetime | None = None
    legal_hold: bool = False
    hold_reason: str = ""
    disposed_at: datetime | None = None
    disposition_id: str = ""
    documents: tuple[DossierDocument, ...] = field(default=())

    @property
    def permanent(self) -> bool:
        return self.retention_years is None

    @property
    def handover_due(self) -> date | None:
        """One year after the work ended."""
        return add_years(self.end_date, 1) if self.end_date else None

    @property
    def retention_ends(self) -> date | None:
        """The day its retention ends, counted from its end date; None while open or permanent."""
        if self.end_date is None or self.retention_years is None:
            return None
        return add_years(self.end_date, self.retention_years)

    def past_retention(self, today: date) -> bool:
        ends = self.retention_ends
        return ends is not None and ends <= today

    # --- who may do what -----------------------------------------------------------------

    def may_see(self, caller: Caller) -> bool:
        """The keepers (who opened it, who is responsible, the creator unit), the archivists and
        the agency's leaders, each cleared for its most secret document."""
        if caller.is_service:
            return True
        if not caller.cleared_for(self.secrecy):
            return False
        return self.is_keeper(caller) or bool(
            caller.roles.intersection((ARCHIVIST, ADMIN, *LEADERS))
        )

    def is_keeper(self, caller: Caller) -> bool:
        if caller.is_service:
            return False
        named = {self.opened_by, self.responsible_id} - {""}
        return caller.subject in named or self.creator_unit in caller.units

    def ensure_visible(self, caller: Caller) -> None:
        if not self.may_see(caller):
            # Not told apart from a dossier that does not exist.
            raise DossierNotFoundError("no dossier with this id", metadata={"dossier_id": self.id})

    def ensure_keeper(self, caller: Caller) -> None:
        """Only its keepers form the dossier; the archivist receives it, never fills it."""
        self.ensure_visible(caller)
        if not self.is_keeper(caller):
            raise PermissionDeniedError(
                "only who keeps the dossier (its creator unit or the person responsible) may "
                "change it",
                reason="NOT_DOSSIER_KEEPER",
                metadata={"dossier_id": self.id},
            )

    # --- forming it ----------------------------------------------------------------------

    def ensure_open(self) -> None:
        if self.state is DossierState.HANDED_OVER or self.state is DossierState.DISPOSED:
            raise FailedPreconditionError(
                "the dossier is in the agency archive: it is read-only",
                reason="DOSSIER_HANDED_OVER",
                metadata={"dossier_id": self.id, "state": self.state.value},
            )
        if self.state is not DossierState.OPEN:
            raise FailedPreconditionError(
                "the dossier is closed: no document is added or removed",
                reason="DOSSIER_NOT_OPEN",
                metadata={"dossier_id": self.id, "state": self.state.value},
            )

    def holds(self, document_id: str) -> bool:
        return any(d.document_id == document_id for d in self.documents)

    def with_document(self, document: DossierDocument) -> Dossier:
        self.ensure_open()
        if self.holds(document.document_id):
            return self
        if len(self.documents) >= MAX_DOCUMENTS:
            raise ResourceExhaustedError(
                f"a dossier holds at most {MAX_DOCUMENTS} documents",
                reason="DOSSIER_TOO_LARGE",
                metadata={"dossier_id": self.id, "max_documents": str(MAX_DOCUMENTS)},
            )
        return self._totalled((*self.documents, document))

    def without_document(self, document_id: str) -> Dossier:
        self.ensure_open()
        if not self.holds(document_id):
            raise NotFoundError(
                "the dossier does not hold this document",
                reason="DOSSIER_DOCUMENT_NOT_FOUND",
                metadata={"dossier_id": self.id, "document_id": document_id},
            )
        return self._totalled(tuple(d for d in self.documents if d.document_id != document_id))

    def with_snapshots(self, documents: tuple[DossierDocument, ...]) -> Dossier:
        """The same documents as they are now (read again at the handover: an outgoing
        document's signed PDF may have arrived since it was added)."""
        if [d.document_id for d in documents] != [d.document_id for d in self.documents]:
            raise ValueError("snapshots must be of the documents the dossier holds, in order")
        return self._totalled(documents)

    def _totalled(self, documents: tuple[DossierDocument, ...]) -> Dossier:
        """Totals, start date and secrecy follow the documents held."""
        dates = [d.issued_date for d in documents if d.issued_date is not None]
        return replace(
            self,
            documents=documents,
            doc_total=len(documents),
            page_total=sum(max(d.page_amount, 0) for d in documents),
            start_date=min(dates) if dates else self.opened_at.date(),
            secrecy=max((d.secrecy for d in documents), default=Clearance.NONE),
        )

    def closed(self, *, end_date: date | None, today: date, by: str, at: datetime) -> Dossier:
        self.ensure_open()
        if not self.documents:
            raise FailedPreconditionError(
                "an empty dossier cannot be closed",
                reason="DOSSIER_EMPTY",
                metadata={"dossier_id": self.id},
            )
        end = end_date or today
        start = self.start_date or self.opened_at.date()
        if end > today:
            raise invalid_fields({"end_date": "cannot be in the future"}, reason="INVALID_END_DATE")
        if end < start:
            raise invalid_fields(
                {"end_date": f"cannot be before the dossier's start date {start.isoformat()}"},
                reason="INVALID_END_DATE",
            )
        return replace(
            self,
            state=DossierState.CLOSED,
            end_date=end,
            closed_at=at,
            closed_by=by,
        )

    # --- in the agency archive -----------------------------------------------------------

    def ensure_closed_for_handover(self) -> None:
        if self.state is DossierState.OPEN:
            raise FailedPreconditionError(
                "only a closed dossier is handed over",
                reason="DOSSIER_NOT_CLOSED",
                metadata={"dossier_id": self.id},
            )
        if self.state is not DossierState.CLOSED:
            raise FailedPreconditionError(
                "the dossier is already in the agency archive",
                reason="DOSSIER_HANDED_OVER",
                metadata={"dossier_id": self.id, "state": self.state.value},
            )

    def handed_over(self, *, by: str, at: datetime, record: DossierFile) -> Dossier:
        self.ensure_closed_for_handover()
        return replace(
            self,
            state=DossierState.HANDED_OVER,
            handed_over_at=at,
            handed_over_by=by,
            handover_record=record,
        )

    def due_for_handover_warning(self, today: date) -> bool:
        due = self.handover_due
        return (
            self.state is DossierState.CLOSED
            and self.handover_warned_at is None
            and due is not None
            and (due - today).days <= HANDOVER_WARNING_DAYS
        )

    def files(self) -> tuple[DossierFile, ...]:
        """Every file the dossier keeps, each once, in document order; the handover record last."""
        seen: dict[str, DossierFile] = {}
        for document in self.documents:
            for file in document.files:
                seen.setdefault(file.sha256, file)
        if self.handover_record is not None:
            seen.setdefault(self.handover_record.sha256, self.handover_record)
        return tuple(seen.values())

    def disposal_blocker(self, today: date) -> str | None:
        """Why the dossier cannot be destroyed today, or None."""
        if self.permanent:
            return "permanent"
        if self.state is DossierState.OPEN:
            return "open"
        if self.state is DossierState.DISPOSED:
            return "already destroyed"
        if self.legal_hold:
            return "on legal hold"
        if not self.past_retention(today):
            ends = self.retention_ends
            return f"retained until {ends.isoformat()}" if ends else "not past retention"
        return None


@dataclass(frozen=True, slots=True)
class Keeping:
    """How the archive keeps one object: its size, lock and hold."""

    size: int
    locked_until: datetime | None
    legal_hold: bool


class DossierNotFoundError(NotFoundError):
    reason = "DOSSIER_NOT_FOUND"


class DossierExistsError(AlreadyExistsError):
    reason = "DOSSIER_EXISTS"


def require_archivist(caller: Caller) -> None:
    caller.require_role(ARCHIVIST)


def require_leader(caller: Caller) -> None:
    caller.require_role(*LEADERS)


def ensure_document_issued(*, kind: DocumentKind, status: str, document_id: str) -> None:
    """An outgoing document is kept once issued: a draft is not yet a record."""
    if kind is DocumentKind.OUTGOING and status != "issued":
        raise FailedPreconditionError(
            "only an issued outgoing document is added to a dossier",
            reason="DOCUMENT_NOT_ISSUED",
            metadata={"document_id": document_id, "status": status},
        )


def check_year(year: int, *, today: date) -> int:
    """0 is this year; any other from 2000 to next year."""
    if year == 0:
        return today.year
    if not 2000 <= year <= today.year + 1:
        raise InvalidArgumentError(
            f"year must be between 2000 and {today.year + 1}",
            reason="INVALID_ARGUMENT",
            metadata={"field": "year"},
        )
    return year


class DispositionState(enum.Enum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REFUSED = "refused"
    EXECUTED = "executed"


@dataclass(frozen=True, slots=True)
class DispositionItem:
    dossier_id: str
    file_code: str
    title: str
    retention: str
    retention_years: int | None
    end_date: date | None
    retention_ends: date | None
    doc_total: int
    page_total: int

    @classmethod
    def of(cls, dossier: Dossier) -> DispositionItem:
        return cls(
            dossier_id=dossier.id,
            file_code=dossier.file_code,
            title=dossier.title,
            retention=dossier.retention,
            retention_years=dossier.retention_years,
            end_date=dossier.end_date,
            retention_ends=dossier.retention_ends,
            doc_total=dossier.doc_total,
            page_total=dossier.page_total,
        )


@dataclass(frozen=True, slots=True)
class Disposition:
    """Hủy tài liệu hết giá trị: proposed by the archivist, decided by the leader, executed by the
    archivist. Once executed it is the disposition record, kept for ever."""

    id: str
    reason: str
    proposed_by: str
    proposed_at: datetime
    items: tuple[DispositionItem, ...]
    state: DispositionState = DispositionState.PROPOSED
    decided_by: str = ""
    decided_at: datetime | None = None
    decision_note: str = ""
    executed_by: str = ""
    executed_at: datetime | None = None
    record: DossierFile | None = None

    def decided(self, *, approve: bool, by: str, at: datetime, note: str) -> Disposition:
        if self.state is not DispositionState.PROPOSED:
            raise FailedPreconditionError(
                "the disposition was already decided",
                reason="DISPOSITION_NOT_PROPOSED",
                metadata={"disposition_id": self.id, "state": self.state.value},
            )
        if not approve and not note.strip():
            raise invalid_fields({"note": "say why it is refused"}, reason="INVALID_ARGUMENT")
        return replace(
            self,
            state=DispositionState.APPROVED if approve else DispositionState.REFUSED,
            decided_by=by,
            decided_at=at,
            decision_note=note.strip(),
        )

    def ensure_approved(self) -> None:
        if self.state is not DispositionState.APPROVED:
            raise FailedPreconditionError(
                "nothing is destroyed without the leader's approval",
                reason="DISPOSITION_NOT_APPROVED",
                metadata={"disposition_id": self.id, "state": self.state.value},
            )

    def executed(self, *, by: str, at: datetime, record: DossierFile) -> Disposition:
        self.ensure_approved()
        return replace(
            self, state=DispositionState.EXECUTED, executed_by=by, executed_at=at, record=record
        )


class DispositionNotFoundError(NotFoundError):
    reason = "DISPOSITION_NOT_FOUND"


def not_disposable(blocked: dict[str, str]) -> FailedPreconditionError:
    """Dossiers that cannot be destroyed, each with why (a permanent one never can)."""
    return FailedPreconditionError(
        "some dossiers cannot be destroyed: "
        + "; ".join(f"{k}: {v}" for k, v in sorted(blocked.items())),
        reason="NOT_DISPOSABLE",
        metadata={k: v for k, v in list(sorted(blocked.items()))[:20]},
    )
