"""Bodies of the incoming documents (văn bản đến): registration metadata and the record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.gateway.api.schemas.documents import (
    RELATIONS_MAX,
    ArchiveOut,
    DigitizationOut,
    FileOut,
    Priority,
    RelationIn,
    RelationOut,
    SignerIn,
    SignerOut,
    Status,
    Strict,
    contract_formats,
    contract_text,
)
from vanban.platform.clearance import Secrecy

_REQUEST = docs.RegisterIncomingDocumentRequest.DESCRIPTOR
_FORMATS = contract_formats(_REQUEST)
ReceivedVia = Literal["electronic", "paper"]


class IncomingMetadataIn(Strict):
    """The `metadata` part of a registration: what the clerk reads off the document."""

    issuer_code: str = contract_text(
        _REQUEST, "issuer_code", "Mã định danh of the issuing agency, e.g. 000.00.00.G22"
    )
    issuer_name: str = contract_text(_REQUEST, "issuer_name")
    code_number: str = contract_text(_REQUEST, "code_number", "Số, e.g. 05")
    code_notation: str = contract_text(_REQUEST, "code_notation", "Ký hiệu, e.g. QĐ-UBND")
    issued_date: date = Field(strict=True, description="YYYY-MM-DD")
    document_type: str = contract_text(
        _REQUEST, "document_type", "Tên loại văn bản of the agency's catalogue"
    )
    subject: str = contract_text(_REQUEST, "subject", "Trích yếu")
    priority: Priority = "normal"
    secrecy: Secrecy = Secrecy.NONE
    received_via: ReceivedVia = Field(
        "electronic", description="paper: the file is the scan of a paper arrival (số hóa)"
    )
    identifier: str = contract_text(
        _REQUEST, "identifier", "Mã định danh văn bản, when the document carries one"
    )
    signer: SignerIn | None = None
    relations: list[RelationIn] = Field(default_factory=list, max_length=RELATIONS_MAX)
    page_amount: int = Field(0, ge=0, le=999)
    description: str = contract_text(_REQUEST, "description")
    due_date: date | None = Field(None, strict=True, description="Hạn xử lý, YYYY-MM-DD")

    @field_validator(*_FORMATS)
    @classmethod
    def _contract_format(cls, value: str, info: ValidationInfo) -> str:
        pattern, description = _FORMATS[str(info.field_name)]
        if value and not pattern.fullmatch(value):
            raise ValueError(f"must be {description}")
        return value


class DuplicateOut(BaseModel):
    id: str = Field(description="An incoming document registered earlier")
    rule: Literal["identifier", "number"] = Field(
        description="identifier: the same mã định danh văn bản; number: the same số, ký hiệu "
        "and issuer"
    )


class IncomingDocumentOut(BaseModel):
    """Văn bản đến as registered: the arrival number and time, and the document's own metadata
    (appendix VI of Decree 30)."""

    id: str = Field(description="The registry's id of the record (a UUID)")
    status: Status
    register_id: str = Field(description="The register (sổ) that numbered it")
    arrival_number: int = Field(description="Số đến: the number in the register of arrivals")
    arrival_year: int = Field(description="The year of the register (Asia/Ho_Chi_Minh)")
    arrived_at: datetime = Field(description="Ngày đến: when the clerk registered it")
    received_via: ReceivedVia
    issuer_code: str = Field(description="Mã định danh of the issuing agency")
    issuer_name: str = Field(description="Tên cơ quan ban hành")
    code_number: str = Field(description="Số of the document, as the issuer numbered it")
    code_notation: str = Field(description="Ký hiệu, e.g. QĐ-UBND")
    issued_date: date = Field(description="Ngày ban hành")
    identifier: str = Field(description="Mã định danh văn bản (edXML DocumentId)")
    document_type: str = Field(description="Tên loại văn bản, e.g. Quyết định")
    subject: str = Field(description="Trích yếu nội dung")
    priority: Priority = Field(description="Độ khẩn")
    secrecy: Secrecy = Field(description="Độ mật")
    signer: SignerOut | None
    relations: list[RelationOut]
    page_amount: int | None
    description: str | None
    due_date: date | None
    file: FileOut = Field(description="The registered file, in the archive")
    attachments: list[FileOut]
    duplicates: list[DuplicateOut] = Field(
        description="Documents registered before that look like this one (a warning: the "
        "document is registered all the same)"
    )
    digitization: DigitizationOut | None = Field(
        description="Text extraction for search (OCR of a scan), when it has started"
    )
    archive: ArchiveOut | None = Field(
        default=None, description="Set once a dossier holding it is in the agency archive"
    )
    registered_by: str = Field(description="Who registered it (a person or an API key)")
