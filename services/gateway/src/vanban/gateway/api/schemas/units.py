"""Bodies of the units tree (đơn vị)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from vanban.gateway.api.schemas.people import Patch, UnitCode


class UnitOut(BaseModel):
    code: str
    name: str
    abbreviation: str
    parent_code: str | None = Field(description="None for a root unit")
    head_person_id: str | None
    deputy_person_ids: list[str]


class UnitTreeItem(UnitOut):
    depth: int = Field(description="0 for a root unit, its children 1, and so on")


class UnitList(BaseModel):
    items: list[UnitTreeItem] = Field(
        description="The whole tree: each unit before its children, siblings by code"
    )


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: UnitCode = Field(description="Unique and unchangeable: A-Z, 0-9, '.', '_', '-'")
    name: str = Field(max_length=200)
    abbreviation: str = Field(default="", max_length=30, description="Defaults to the code")
    parent_code: UnitCode | None = Field(default=None, description="None for a root unit")
    head_person_id: UUID | None = None
    deputy_person_ids: list[UUID] = Field(default=[], max_length=20)


class UnitPatch(Patch):
    NOT_NULL = frozenset({"name", "deputy_person_ids"})

    name: str | None = Field(default=None, max_length=200)
    abbreviation: str | None = Field(
        default=None, max_length=30, description="null: back to the code"
    )
    parent_code: UnitCode | None = Field(
        default=None, description="Moves the unit; null makes it a root unit"
    )
    head_person_id: UUID | None = Field(default=None, description="null: no head")
    deputy_person_ids: list[UUID] | None = Field(default=None, max_length=20)
