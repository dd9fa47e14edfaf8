"""Bodies of the outgoing documents (văn bản đi): the draft, its versions, the issued record."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.schemas.documents import (
    RECIPIENTS_MAX,
    RELATIONS_MAX,
    ArchiveOut,
    DigitizationOut,
    FileOut,
    Priority,
    RecipientIn,
    RecipientOut,
    RelationIn,
    RelationOut,
    SignerIn,
    SignerOut,
    Status,
    Strict,
    contract_text,
)
from vanban.platform.clearance import Secrecy

# The contract's int32; a draft keeps far fewer versions (documents' VERSIONS_MAX).
VERSION_MAX = 2**31 - 1
_DRAFT = docs.DraftOutgoingDocumentRequest.DESCRIPTOR
_VERSION = docs.AddOutgoingVersionRequest.DESCRIPTOR
_CANCEL = docs.CancelOutgoingDocumentRequest.DESCRIPTOR


class OutgoingMetadataIn(Strict):
    """The `metadata` part of a new draft: only what is known before issue. The number, date
    and identifier come at issue."""

    document_type: str = contract_text(
        _DRAFT, "document_type", "Tên loại văn bản of the agency's catalogue, e.g. Quyết định"
    )
    subject: str = contract_text(_DRAFT, "subject", "Trích yếu")
    priority: Priority = "normal"
    secrecy: Secrecy = Secrecy.NONE
    recipients: list[RecipientIn] = Field(
        min_length=1, max_length=RECIPIENTS_MAX, description="Nơi nhận, by mã định danh"
    )
    signer: SignerIn | None = Field(None, description="Who is to sign, with what authority")
    drafting_unit: str = contract_text(
        _DRAFT,
        "drafting_unit",
        "The drafting unit's code (its abbreviation goes into a công văn's ký hiệu)",
    )
    relations: list[RelationIn] = Field(default_factory=list, max_length=RELATIONS_MAX)
    note: str = contract_text(_DRAFT, "note", "A note on this first version")
    description: str = contract_text(_DRAFT, "description")
    issued_amount: int = Field(0, ge=0, le=999, description="Số lượng bản phát hành")


class VersionMetadataIn(Strict):
    """The optional `metadata` part of a new version."""

    note: str = contract_text(_VERSION, "note", "What changed")
    expected_version: int | None = Field(
        None,
        ge=1,
        le=VERSION_MAX,
        description="Refused (409 VERSION_CONFLICT) if the draft has moved on",
    )


class IssueIn(Strict):
    expected_version: int | None = Field(
        None,
        ge=1,
        le=VERSION_MAX,
        description="The version that was approved: issue is refused (409 VERSION_CONFLICT) if "
        "the draft has another",
    )


class CancelIn(Strict):
    reason: str = contract_text(
        _CANCEL, "reason", "Why the number is cancelled (lý do hủy số), printed in the register"
    )


class VersionOut(BaseModel):
    version: int
    file: FileOut
    uploaded_by: str
    uploaded_at: datetime
    note: str | None


class OutgoingDocumentOut(BaseModel):
    """Văn bản đi: a draft, or an issued document with its number, date and identifier."""

    id: str
    status: Status
    document_type: str = Field(description="Tên loại văn bản")
    subject: str = Field(description="Trích yếu nội dung")
    priority: Priority = Field(description="Độ khẩn")
    secrecy: Secrecy = Field(description="Độ mật")
    recipients: list[RecipientOut] = Field(description="Nơi nhận")
    signer: SignerOut | None
    drafting_unit: str | None
    relations: list[RelationOut]
    description: str | None
    issued_amount: int | None
    current_version: int
    file: FileOut = Field(description="The current version's file")
    signed_file: FileOut | None = Field(
        description="The current version as last signed (the leader's, then the agency's "
        "signature added by incremental update); GET …/signed-file serves it"
    )
    versions: list[VersionOut] = Field(description="Every version, oldest first")
    register_id: str | None = Field(description="The register (sổ) that numbered it")
    number: int | None
    year: int | None
    code_number: str | None = Field(description="Số, e.g. 05 (set at issue)")
    code_notation: str | None = Field(description="Ký hiệu, e.g. QĐ-UBND (set at issue)")
    issued_date: date | None = Field(description="Ngày ban hành (set at issue)")
    identifier: str | None = Field(description="Mã định danh văn bản đi (set at issue)")
    issued_at: datetime | None
    issued_by: str | None
    cancel_reason: str | None = Field(
        description="Lý do hủy số: set when the number was cancelled (status cancelled)"
    )
    cancelled_by: str | None
    cancelled_at: datetime | None
    digitization: DigitizationOut | None
    created_by: str
    created_at: datetime
    archive: ArchiveOut | None = Field(
        default=None, description="Set once a dossier holding it is in the agency archive"
    )
