"""Bodies of document lists and search: one row per document, a page with its total."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Direction = Literal["incoming", "outgoing"]
Status = Literal["registered", "draft", "issued", "cancelled", "recalled"]
Priority = Literal["normal", "urgent", "very_urgent", "flash"]
SecrecyLevel = Literal["none", "confidential", "secret", "top_secret"]
SortKey = Literal["registered_at", "issued_date", "number"]
Order = Literal["asc", "desc"]


class DocumentSummaryOut(BaseModel):
    id: str
    direction: Direction
    status: Status
    document_type: str
    subject: str = Field(description="Trích yếu")
    code_number: str | None = Field(default=None, description="Số, e.g. 05 (none for a draft)")
    code_notation: str | None = Field(default=None, description="Ký hiệu, e.g. QĐ-UBND")
    issued_date: date | None = None
    issuer_code: str | None = None
    issuer_name: str | None = None
    register_id: str | None = None
    number: int | None = Field(default=None, description="Số đến, or the số of an issued document")
    year: int | None = Field(default=None, description="The register's year of the number")
    registered_at: datetime | None = Field(default=None, description="Arrival, or issue")
    priority: Priority
    secrecy: SecrecyLevel
    unit: str | None = Field(
        default=None, description="Lead unit (incoming, once assigned) or drafting unit"
    )
    received_via: Literal["electronic", "paper"] | None = None
    duplicate_count: int = Field(description="Duplicate warnings of an incoming document")


class DocumentPage(BaseModel):
    items: list[DocumentSummaryOut]
    next_page_token: str | None = None
    total: int = Field(description="What you may see that matches, on every page")
    total_exact: bool = Field(
        description=(
            "false when there are more than 1 000 (a list) or 100 (a search): `total` is then "
            "a lower bound"
        )
    )
