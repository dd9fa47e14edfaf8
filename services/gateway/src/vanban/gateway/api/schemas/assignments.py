"""Bodies of the leader's assignment of an incoming document (phân công xử lý)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from vanban.gateway.api.schemas.dates import IsoDate


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lead_unit: str = Field(min_length=1, max_length=32, description="Đơn vị chủ trì")
    coordinating_units: list[str] = Field(default=[], max_length=50, description="Đơn vị phối hợp")
    informed_units: list[str] = Field(default=[], max_length=50, description="Đơn vị để biết")
    opinion: str = Field(default="", max_length=2000, description="Ý kiến chỉ đạo")
    deadline: IsoDate | None = Field(default=None, description="Thời hạn giải quyết, YYYY-MM-DD")
    on_behalf_of: UUID | None = Field(
        default=None, description="The leader's person id, when assigning under their delegation"
    )


class AssignmentOut(BaseModel):
    id: str
    document_id: str
    lead_unit: str
    coordinating_units: list[str]
    informed_units: list[str]
    opinion: str
    deadline: date | None
    assigned_by: str
    on_behalf_of: str | None
    assigned_at: datetime
