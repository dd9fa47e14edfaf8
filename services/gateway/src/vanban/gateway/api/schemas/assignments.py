"""Bodies of the leader's assignment of an incoming document (phân công xử lý)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vanban.gateway.api.schemas.dates import IsoDate


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lead_unit: str | None = Field(
        default=None, min_length=1, max_length=32, description="Đơn vị chủ trì"
    )
    lead_person: UUID | None = Field(
        default=None, description="Cá nhân chủ trì, instead of a unit: one of the two"
    )
    coordinating_units: list[str] = Field(default=[], max_length=50, description="Đơn vị phối hợp")
    coordinating_people: list[UUID] = Field(
        default=[], max_length=50, description="Cá nhân phối hợp"
    )
    informed_units: list[str] = Field(default=[], max_length=50, description="Đơn vị để biết")
    informed_people: list[UUID] = Field(default=[], max_length=50, description="Cá nhân để biết")
    opinion: str = Field(default="", max_length=2000, description="Ý kiến chỉ đạo")
    deadline: IsoDate | None = Field(default=None, description="Thời hạn giải quyết, YYYY-MM-DD")
    deadline_working_days: int | None = Field(
        default=None,
        ge=0,
        le=365,
        description="The deadline as working days after today, instead of a date. Neither: "
        "the default of the document's urgency",
    )
    on_behalf_of: UUID | None = Field(
        default=None, description="The leader's person id, when assigning under their delegation"
    )

    @model_validator(mode="after")
    def _one_lead(self) -> AssignmentIn:
        if (self.lead_unit is None) == (self.lead_person is None):
            raise ValueError("name the lead: a lead_unit or a lead_person, one of the two")
        if self.deadline is not None and self.deadline_working_days is not None:
            raise ValueError("give deadline or deadline_working_days, not both")
        return self


class AssignmentOut(BaseModel):
    id: str
    document_id: str
    # One of the two.
    lead_unit: str | None
    lead_person: str | None
    coordinating_units: list[str]
    coordinating_people: list[str]
    informed_units: list[str]
    informed_people: list[str]
    opinion: str
    deadline: date | None
    assigned_by: str
    on_behalf_of: str | None
    assigned_at: datetime
