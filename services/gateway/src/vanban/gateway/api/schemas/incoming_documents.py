"""The REST API's request and response bodies (separate from any table or proto)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.contracts.options.v1 import options_pb2

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Priority = Literal["normal", "urgent", "very_urgent", "flash"]
Secrecy = Literal["none", "confidential", "secret", "top_secret"]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    # The password was set by an administrator: until it is changed (POST /v1/me/password),
    # these tokens open nothing else but /v1/me and sign-out.
    password_must_change: bool = False


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class DelegationOut(BaseModel):
    id: str
    from_person_id: str
    scope: list[str]
    starts_at: datetime
    ends_at: datetime


class MeOut(BaseModel):
    id: str
    username: str
    full_name: str
    position_title: str
    agency_code: str
    roles: list[str]
    units: list[str]
    clearance: str
    password_must_change: bool = False
    # Delegations (ủy quyền) this person holds right now, to act for someone else.
    acting_for: list[DelegationOut] = []


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
    secrecy: Secrecy = "none"

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
    id: str
    arrival_number: int
    arrival_year: int
    arrived_at: datetime
    issuer_code: str
    issuer_name: str
    code_number: str
    code_notation: str
    issued_date: date
    document_type: str
    subject: str
    priority: Priority
    secrecy: Secrecy
    file: FileOut
    registered_by: str


class NotificationOut(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    resource: str
    created_at: datetime
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_page_token: str | None = None


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="Which system uses the key")
    scopes: list[str] = Field(
        min_length=1, max_length=10, description="incoming:register, incoming:read"
    )
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="Shown once: send it as Authorization: Bearer <key>")
