"""Bodies of the agency profile (cơ quan)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from vanban.gateway.api.schemas.people import ImageOut, Patch


class AgencyOut(BaseModel):
    code: str = Field(description="Mã định danh, e.g. 000.00.00.H99; never changes")
    name: str
    abbreviation: str = Field(description="Used in ký hiệu, e.g. UBND")
    address: str
    phone: str
    email: str
    website: str
    seal_image: ImageOut | None = Field(description="The red seal (con dấu)")


class AgencyPatch(Patch):
    NOT_NULL = frozenset({"name", "abbreviation"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    abbreviation: str | None = Field(default=None, min_length=1, max_length=30)
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    website: str | None = Field(default=None, max_length=255)
