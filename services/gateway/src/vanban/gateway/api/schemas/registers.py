"""Bodies of the registers (sổ đăng ký) and the document types (tên loại văn bản)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class RegisterOut(BaseModel):
    id: str = Field(description="Names the register in `/v1/registers/{id}/book`")
    name: str
    direction: Literal["incoming", "outgoing"]
    secrecy_levels: list[str] = Field(description="none, confidential, secret, top_secret")
    document_types: list[str] = Field(
        description="An outgoing series of a type group: the types it numbers; empty for all"
    )


class RegisterList(BaseModel):
    items: list[RegisterOut] = Field(
        description="The active registers whose secrecy your clearance covers, in the agency's order"
    )


class DocumentTypeOut(BaseModel):
    name: str = Field(description="Tên loại văn bản, as `document_type` takes it")
    abbreviation: str | None = Field(description="None for a công văn")


class DocumentTypeList(BaseModel):
    items: list[DocumentTypeOut] = Field(description="The active types in the decree's order")
