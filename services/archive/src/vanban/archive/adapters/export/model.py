"""What an export is made of: plain values the service fills from its domain, so that the
builders of this package know nothing of repositories or the store.

The dossier fields follow appendix VI (thông tin đầu vào của hồ sơ, văn bản); the names of the
XML elements written from them are those of the appendix (`FileCode`, `Maintenance`, ...).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

# The bytes of a registered file by its SHA-256. The service's reader checks the hash as it
# streams and raises at the end on a mismatch; the builders check it again as they write.
Reader = Callable[[str], AsyncIterator[bytes]]
# Called with (files done, files total) as the files of an export are fetched.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ExportFile:
    """A registered file of a document (tệp đính kèm). `name` is as the clerk uploaded it: it
    may be empty or hostile, and is written to metadata only, never used as a path."""

    sha256: str
    size: int
    content_type: str
    name: str

    def __post_init__(self) -> None:
        if not _SHA256_RE.match(self.sha256):
            raise ValueError(f"not a lower-case hex SHA-256: {self.sha256!r}")
        if self.size < 0:
            raise ValueError(f"a file size cannot be negative: {self.size}")


@dataclass(frozen=True, slots=True)
class ExportDocument:
    """A document of the dossier (văn bản trong hồ sơ), in the dossier's order (`position`,
    from 1: số thứ tự văn bản trong hồ sơ)."""

    position: int
    kind: Literal["incoming", "outgoing"]
    document_id: str
    identifier: str
    code_number: str
    code_notation: str
    issued_date: date | None
    issuer_name: str
    document_type: str
    subject: str
    page_amount: int
    # A level of `vanban.platform.clearance.Clearance` ("none", "confidential", ...).
    secrecy: str
    files: tuple[ExportFile, ...]

    def __post_init__(self) -> None:
        if self.position < 1:
            raise ValueError(f"a document's position starts at 1: {self.position}")


@dataclass(frozen=True, slots=True)
class Coded:
    """A coded value and the label users read, e.g. retention ("01", "Vĩnh viễn")."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class DossierMetadata:
    """A dossier (hồ sơ) as appendix VI describes it, with the agency that holds it.

    `maintenance` is the retention (thời hạn bảo quản: "01" Vĩnh viễn ... "07"), `rights` the
    access regime (chế độ sử dụng: "01" Công khai, "02" Sử dụng có điều kiện, "03" Mật),
    `creator` the unit or person who formed the dossier (đơn vị/người lập hồ sơ).
    """

    dossier_id: str
    agency_code: str
    agency_name: str
    year: int
    file_code: str
    title: str
    maintenance: Coded
    rights: Coded
    creator: str
    language: str
    start_date: date | None
    end_date: date | None
    doc_total: int
    page_total: int
    description: str


@dataclass(frozen=True, slots=True)
class HandoverRecord:
    """Biên bản giao nộp hồ sơ, tài liệu vào Lưu trữ cơ quan: closed dossiers handed over by a
    unit (or a person) to the agency's archivist."""

    agency_code: str
    agency_name: str
    handover_id: str
    handed_over_on: date
    handing_unit: str
    handing_person: str
    archivist: str
    dossiers: tuple[DossierMetadata, ...]
    # Optional parts of the record: left out of it when empty.
    record_number: str = ""
    place: str = ""
    handing_person_title: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class DispositionRecord:
    """Biên bản hủy tài liệu hết giá trị: dossiers whose retention has run out, destroyed
    after the agency's leader approved the proposal. The record itself is kept for ever."""

    agency_code: str
    agency_name: str
    proposal_id: str
    reason: str
    approver_name: str
    approved_on: date
    destroyed_on: date
    performed_by: str
    dossiers: tuple[DossierMetadata, ...]
    record_number: str = ""
    place: str = ""
    approver_title: str = ""
    decision_ref: str = ""
