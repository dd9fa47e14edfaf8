"""Bodies of the incoming documents (văn bản đến): registration metadata and the record."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.contracts.options.v1 import options_pb2
from vanban.platform.clearance import Secrecy

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Priority = Literal["normal", "urgent", "very_urgent", "flash"]


def _register_rules(field: str) -> options_pb2.TextRules:
    """The rules the documents contract declares for a field of its registration request."""
    descriptor = docs.RegisterIncomingDocumentRequest.DESCRIPTOR.fields_by_name[field]
    return descriptor.GetOptions().Extensions[options_pb2.text]


def _contract_text(field: str, description: str | None = None) -> Any:
    """A text field limited as the documents contract declares (its format is checked by
    `IncomingMetadataIn._contract_format`), so that what documents would refuse is refused here
    before the file is stored."""
    rules = _register_rules(field)
    return Field(
        min_length=1 if rules.required else 0,
        max_length=rules.max_length or None,
        description=description,
    )


_FORMATS = {
    name: (re.compile(rules.pattern), rules.pattern_description)
    for name in docs.RegisterIncomingDocumentRequest.DESCRIPTOR.fields_by_name
    if (rules := _register_rules(name)).pattern
}


class IncomingMetadataIn(BaseModel):
    """The `metadata` part of a registration: what the clerk reads off the document."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    issuer_code: str = _contract_text(
        "issuer_code", "Mã định danh of the issuing agency, e.g. 000.00.00.G22"
    )
    issuer_name: str = _contract_text("issuer_name")
    code_number: str = _contract_text("code_number", "Số, e.g. 05")
    code_notation: str = _contract_text("code_notation", "Ký hiệu, e.g. QĐ-UBND")
    issued_date: date = Field(strict=True, description="YYYY-MM-DD")
    document_type: str = _contract_text("document_type")
    subject: str = _contract_text("subject", "Trích yếu")
    priority: Priority = "normal"
    secrecy: Secrecy = Secrecy.NONE

    @field_validator("*")
    @classmethod
    def _printable(cls, value: object) -> object:
        if isinstance(value, str) and _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator(*_FORMATS)
    @classmethod
    def _contract_format(cls, value: str, info: ValidationInfo) -> str:
        pattern, description = _FORMATS[str(info.field_name)]
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {description}")
        return value


class FileOut(BaseModel):
    sha256: str
    size: int
    content_type: str
    file_name: str


class IncomingDocumentOut(BaseModel):
    """Văn bản đến as registered: the arrival number and time, and the document's own metadata
    (appendix VI of Decree 30)."""

    id: str = Field(description="The registry's id of the record (a UUID)")
    arrival_number: int = Field(description="Số đến: the number in the register of arrivals")
    arrival_year: int = Field(description="The year of the register (Asia/Ho_Chi_Minh)")
    arrived_at: datetime = Field(description="Ngày đến: when the clerk registered it")
    issuer_code: str = Field(description="Mã định danh of the issuing agency")
    issuer_name: str = Field(description="Tên cơ quan ban hành")
    code_number: str = Field(description="Số of the document, as the issuer numbered it")
    code_notation: str = Field(description="Ký hiệu, e.g. QĐ-UBND")
    issued_date: date = Field(description="Ngày ban hành")
    document_type: str = Field(description="Tên loại văn bản, e.g. Quyết định")
    subject: str = Field(description="Trích yếu nội dung")
    priority: Priority = Field(description="Độ khẩn")
    secrecy: Secrecy = Field(description="Độ mật")
    file: FileOut = Field(description="The registered file, in the archive")
    registered_by: str = Field(description="Who registered it (a person or an API key)")
