"""Bodies of the agency's records (ADR 0013; Decree 30/2020 arts. 28-30, Circular 01/2019): the
dossier list (danh mục hồ sơ) approved each year, the dossiers (hồ sơ) formed from it and handed
over to the agency archive (nộp lưu), dispositions (hủy tài liệu hết giá trị) and the archive's
audit chain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from vanban.contracts.archive.v1 import records_pb2 as pb
from vanban.gateway.api.schemas.dates import IsoDate
from vanban.gateway.api.schemas.documents import Strict, contract_rules, contract_text
from vanban.platform.clearance import Secrecy

# The contract's enums by their API names (`convert.records` derives the tables from the
# descriptors; a test holds these lists to them).
DossierStateName = Literal["open", "closed", "handed_over", "disposed"]
DispositionStateName = Literal["proposed", "approved", "refused", "executed"]
ExportFormatName = Literal["bagit", "eark", "pdf"]
DocumentKind = Literal["incoming", "outgoing"]
# Years a dossier list or a dossier may be of (the archive narrows it to next year at most).
YEAR_MIN = 2000
YEAR_MAX = 2100
# Dossiers one disposition names at most (none: every dossier past its retention), as the
# archive takes them.
DISPOSITION_DOSSIERS_MAX = 500

_RETENTION = (
    "Thời hạn bảo quản, code 01 (permanent), 02 (70 years), 03 (50), 04 (30), 05 (20), "
    "06 (10) or 07 (other)"
)
_ACCESS = "Chế độ sử dụng, code 01 (public), 02 (conditional) or 03 (secret)"
_RETENTION_YEARS = "Years kept after the end date; null: permanent (vĩnh viễn)"


class DossierListEntryOut(BaseModel):
    """An entry of the year's dossier list: the dossier the agency will form."""

    code: str = Field(description="Số và ký hiệu hồ sơ, e.g. 01.TCCB")
    title: str = Field(description="Tiêu đề hồ sơ")
    retention: str = Field(description=_RETENTION)
    retention_years: int | None = Field(description=_RETENTION_YEARS)
    access: str = Field(description=_ACCESS)
    creator_unit: str = Field(description="The unit that forms it (its code in the directory)")
    responsible: str = Field(description="Who forms it (người lập hồ sơ): a user name or id")
    notes: str
    approved: bool = Field(description="Whether the agency's leader approved the entry")
    approved_at: datetime | None
    approved_by: str | None
    dossier_id: str | None = Field(description="The dossier opened from it this year, if any")


class DossierListOut(BaseModel):
    year: int
    items: list[DossierListEntryOut] = Field(description="By code")


class DossierListProblemOut(BaseModel):
    line: int = Field(
        description="As a spreadsheet shows it: the header is line 1; 0 is the file as a whole"
    )
    field: str | None = Field(description="The column; null for the line as a whole")
    message: str


class DossierListImportOut(BaseModel):
    applied: bool = Field(description="Whether anything was written (never in a dry run)")
    added: int = Field(description="Entries new to the year's list (or that would be)")
    updated: int = Field(description="Entries of the list changed (or that would be)")
    entries: list[DossierListEntryOut] = Field(
        description="Every entry of the file, as imported or as it would be"
    )
    problems: list[DossierListProblemOut] = Field(
        description="Every problem of the file, by line; a real import with any is refused "
        "(422 `DOSSIER_LIST_INVALID`) and changes nothing"
    )


class ApprovedDossierListOut(BaseModel):
    year: int
    approved: int = Field(description="The entries approved now (those approved before stay so)")


class DossierFileOut(BaseModel):
    sha256: str
    size: int
    content_type: str
    file_name: str


class DossierDocumentOut(BaseModel):
    """A document the dossier holds by reference, as it was when added."""

    kind: DocumentKind = Field(description="incoming (văn bản đến) or outgoing (văn bản đi)")
    document_id: str
    identifier: str | None = Field(description="Mã định danh văn bản, when known")
    code_number: str = Field(description="Số")
    code_notation: str = Field(description="Ký hiệu")
    issued_date: date | None = Field(description="Ngày ban hành")
    issuer_name: str
    document_type: str = Field(description="Tên loại văn bản")
    subject: str = Field(description="Trích yếu")
    page_amount: int
    secrecy: Secrecy = Field(description="Độ mật")
    files: list[DossierFileOut] = Field(description="The main file first, then attachments")
    added_by: str
    added_at: datetime | None


class DossierOut(BaseModel):
    """A dossier (hồ sơ), with the fields of Circular 01/2019, appendix VI."""

    id: str
    state: DossierStateName = Field(
        description="open: documents are added; closed: its work ended, it waits to be handed "
        "over; handed_over: in the agency archive, read-only; disposed: destroyed by a "
        "disposition (its record stays)"
    )
    year: int
    list_code: str = Field(description="The code of its entry in the dossier list")
    file_code: str = Field(
        description="Mã hồ sơ: the agency, the year and the list code, e.g. "
        "000.00.00.H99.2026.01.TCCB"
    )
    title: str
    retention: str = Field(description=_RETENTION)
    retention_years: int | None = Field(description=_RETENTION_YEARS)
    access: str = Field(description=_ACCESS)
    creator_unit: str
    responsible: str
    language: str
    start_date: date | None = Field(description="Its earliest document's date (or its opening)")
    end_date: date | None = Field(description="Set when it is closed")
    doc_total: int
    page_total: int
    description: str
    opened_by: str
    opened_at: datetime | None
    closed_at: datetime | None
    handover_due: date | None = Field(
        description="Due in the agency archive one year after the end date"
    )
    handed_over_at: datetime | None
    handed_over_by: str | None
    handover_record: DossierFileOut | None = Field(
        description="The handover record (biên bản giao nộp), a PDF"
    )
    retention_ends: date | None = Field(description="null while open, or when permanent")
    legal_hold: bool = Field(description="Kept whatever its retention says, while set")
    documents: list[DossierDocumentOut] = Field(description="Oldest first; empty in lists")


class DossiersOut(BaseModel):
    items: list[DossierOut]
    next_page_token: str | None = None


_OPEN = pb.OpenDossierRequest.DESCRIPTOR
_HOLD = pb.SetDossierHoldRequest.DESCRIPTOR
_PROPOSE = pb.ProposeDispositionRequest.DESCRIPTOR
_DECIDE = pb.DecideDispositionRequest.DESCRIPTOR


class OpenDossierIn(Strict):
    list_code: str = contract_text(
        _OPEN, "list_code", "The code of an approved entry of the year's dossier list"
    )
    title: str = contract_text(_OPEN, "title", "The entry's title by default")
    description: str = contract_text(_OPEN, "description")
    year: int | None = Field(
        None, ge=YEAR_MIN, le=YEAR_MAX, strict=True, description="This year by default"
    )


class AddDossierDocumentIn(Strict):
    document_id: UUID = Field(description="An incoming or outgoing document you may open")
    kind: DocumentKind | None = Field(
        None, description="incoming or outgoing; both are looked at when absent"
    )


class CloseDossierIn(Strict):
    end_date: IsoDate | None = Field(
        None,
        description="The day its work ended, YYYY-MM-DD: today by default; never in the future "
        "nor before its start date",
    )


class DossierHoldIn(Strict):
    hold: bool = Field(strict=True, description="true: put on legal hold; false: lift it")
    reason: str = contract_text(_HOLD, "reason", "Why (recorded in the audit chain)")


class FileFixityOut(BaseModel):
    sha256: str
    ok: bool
    problem: str | None = Field(description='Why not: "altered", "missing" or "unreadable"')


class FixityOut(BaseModel):
    ok: bool = Field(description="Every file read back matches its SHA-256")
    files: list[FileFixityOut]


class DispositionItemOut(BaseModel):
    dossier_id: str
    file_code: str
    title: str
    retention: str
    retention_years: int | None = Field(description=_RETENTION_YEARS)
    end_date: date | None
    retention_ends: date | None
    doc_total: int
    page_total: int


class DispositionOut(BaseModel):
    """A proposal to destroy dossiers past their retention; once executed, its record (kept for
    ever)."""

    id: str
    state: DispositionStateName = Field(
        description="proposed: waits for the leader; approved: the archivist may execute it; "
        "refused; executed: the dossiers were destroyed"
    )
    reason: str
    proposed_by: str
    proposed_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    executed_by: str | None
    executed_at: datetime | None
    items: list[DispositionItemOut]
    record: DossierFileOut | None = Field(
        description="The disposition record (biên bản hủy), a PDF; set once executed"
    )


class DispositionsOut(BaseModel):
    items: list[DispositionOut] = Field(description="Newest first")
    next_page_token: str | None = None


class DispositionFileOut(BaseModel):
    sha256: str
    size: int
    kept: bool = Field(description="Another dossier, not destroyed, holds it: it stays")


class DispositionDryRunOut(BaseModel):
    items: list[DispositionItemOut] = Field(description="The dossiers that would go, as of now")
    document_ids: list[str] = Field(description="Documents whose records would be marked destroyed")
    files: list[DispositionFileOut]
    bytes_deleted: int
    blocked: list[str] = Field(
        description="Dossiers of the proposal that can no longer go (held, no longer past "
        "retention)"
    )


class ProposeDispositionIn(Strict):
    reason: str = contract_text(_PROPOSE, "reason", "Why they are destroyed")
    dossier_ids: list[UUID] = Field(
        default_factory=list,
        max_length=DISPOSITION_DOSSIERS_MAX,
        description="The dossiers to destroy, each past its retention; every one that is when "
        "absent or empty",
    )

    @field_validator("dossier_ids")
    @classmethod
    def _distinct(cls, value: list[UUID]) -> list[UUID]:
        if len(set(value)) != len(value):
            raise ValueError("names a dossier more than once")
        return value


class ApproveDispositionIn(Strict):
    note: str = contract_text(_DECIDE, "note", "The leader's note, if any")


class RefuseDispositionIn(Strict):
    note: str = Field(
        min_length=1,
        max_length=contract_rules(_DECIDE, "note").max_length or None,
        description="Why it is refused",
    )


class BrokenAuditLinkOut(BaseModel):
    id: int
    occurred_at: datetime | None
    action: str
    resource: str
    problem: str = Field(description='"content altered" or "link broken"')


class AuditVerificationOut(BaseModel):
    ok: bool
    checked: int = Field(description="The entries walked")
    head_hash: str = Field(description="The hash of the chain's last entry")
    broken: BrokenAuditLinkOut | None = Field(description="The first broken link; null when ok")
