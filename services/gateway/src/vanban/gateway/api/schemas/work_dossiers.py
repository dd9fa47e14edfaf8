"""Bodies of work dossiers (hồ sơ công việc), ADR 0010 §8."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ItemKind = Literal["incoming", "outgoing", "task"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WorkDossierIn(_Body):
    title: str = Field(min_length=1, max_length=300, description="Tiêu đề hồ sơ công việc")
    description: str = Field(default="", max_length=2000)


class WorkDossierItemIn(_Body):
    kind: ItemKind = Field(description="incoming (văn bản đến), outgoing (văn bản đi) or task")
    ref_id: UUID
    note: str = Field(default="", max_length=500)


class WorkDossierItemOut(BaseModel):
    kind: ItemKind
    ref_id: str
    note: str
    added_by: str
    added_at: datetime


class WorkDossierOut(BaseModel):
    id: str
    title: str
    description: str
    owner: str
    created_at: datetime
    closed_at: datetime | None
    # Oldest first; empty in lists.
    items: list[WorkDossierItemOut]


class WorkDossiersOut(BaseModel):
    dossiers: list[WorkDossierOut]
    next_page_token: str | None = None
