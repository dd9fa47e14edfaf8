"""Bodies of the tasks an assignment grows (nhiệm vụ xử lý), ADR 0010."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vanban.gateway.api.schemas.dates import IsoDate

TaskRole = Literal["lead", "coordinating", "informed"]
TaskStateName = Literal["assigned", "in_progress", "completed", "returned", "recalled"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ForwardTo(_Body):
    unit: str | None = Field(default=None, min_length=1, max_length=32, description="Đơn vị")
    person_id: UUID | None = Field(default=None, description="Cá nhân")
    role: TaskRole | None = Field(default=None, description="This one's role, if not the forward's")

    @model_validator(mode="after")
    def _one(self) -> ForwardTo:
        if (self.unit is None) == (self.person_id is None):
            raise ValueError("name a unit or a person_id, one of the two")
        return self


class ForwardIn(_Body):
    to: list[ForwardTo] = Field(min_length=1, max_length=50)
    role: TaskRole = Field(default="lead", description="chủ trì, phối hợp or để biết")
    note: str = Field(default="", max_length=2000, description="Ý kiến của đơn vị")
    deadline: IsoDate | None = Field(
        default=None, description="Thời hạn, YYYY-MM-DD, not after the task's"
    )
    on_behalf_of: UUID | None = Field(
        default=None, description="The person whose delegation (scope handle) you act under"
    )


class ProgressIn(_Body):
    note: str = Field(default="", max_length=2000)
    on_behalf_of: UUID | None = None


class CompleteIn(_Body):
    result: str = Field(default="", max_length=4000, description="Kết quả xử lý")
    reply_document_id: UUID | None = Field(default=None, description="The reply document, if any")
    on_behalf_of: UUID | None = None


class ReturnIn(_Body):
    reason: str = Field(min_length=1, max_length=2000, description="Lý do trả lại")
    on_behalf_of: UUID | None = None


class RecallIn(_Body):
    on_behalf_of: UUID | None = None


class TaskOut(BaseModel):
    id: str
    assignment_id: str
    document_id: str
    parent_id: str | None
    role: TaskRole
    holder_unit: str | None
    holder_person: str | None
    deadline: date | None
    note: str
    state: TaskStateName
    # The exchange's business status (04 assigned, 05 in progress, 06 completed), when it has one.
    status_code: str | None
    created_by: str
    on_behalf_of: str | None
    created_at: datetime
    result: str
    reply_document_id: str | None
    reason: str
    closed_at: datetime | None
    closed_by: str | None


class TaskViewOut(BaseModel):
    task: TaskOut
    # The assignment's one processing opinion (ý kiến chỉ đạo), as every assignee reads it.
    opinion: str
    assigned_by: str
    assignment_deadline: date | None
    tree: list[TaskOut]


class TasksOut(BaseModel):
    tasks: list[TaskOut]
    next_page_token: str | None = None
