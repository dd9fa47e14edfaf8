"""The REST API's request and response bodies (separate from any table or proto)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


class IncomingMetadataIn(BaseModel):
    """The `metadata` part of a registration: what the clerk reads off the document."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    issuer_code: str = Field(
        min_length=1, max_length=13, description="Mã định danh of the issuing agency"
    )
    issuer_name: str = Field(min_length=1, max_length=200)
    code_number: str = Field(min_length=1, max_length=11, description="Số, e.g. 05")
    code_notation: str = Field(min_length=1, max_length=30, description="Ký hiệu, e.g. QĐ-UBND")
    issued_date: date = Field(strict=True, description="YYYY-MM-DD")
    document_type: str = Field(min_length=1, max_length=100)
    subject: str = Field(min_length=1, max_length=500, description="Trích yếu")
    priority: Priority = "normal"
    secrecy: Secrecy = "none"

    @field_validator("*")
    @classmethod
    def _printable(cls, value: object) -> object:
        if isinstance(value, str) and _CONTROL.search(value):
            raise ValueError("must not contain control characters")
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
