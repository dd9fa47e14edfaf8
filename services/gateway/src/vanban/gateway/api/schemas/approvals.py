"""Bodies of the approval chain of outgoing documents (ADR 0010, 5)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

StepName = Literal["review", "form_check", "approve", "sign"]
ApprovalStateName = Literal["pending", "approved", "numbering", "returned", "issued"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SubmitIn(_Body):
    signer_id: UUID = Field(description="Người ký: an agency leader, or the head of a unit")
    comment: str = Field(default="", max_length=2000, description="Tờ trình, lời nhắn")


class DecideIn(_Body):
    comment: str = Field(default="", max_length=2000, description="Ý kiến")
    on_behalf_of: UUID | None = Field(
        default=None, description="The leader whose delegation (scope approve) you act under"
    )
    expected_version: int | None = Field(
        default=None, ge=1, le=1000, description="The draft's version you read"
    )


class ReturnIn(_Body):
    comment: str = Field(min_length=1, max_length=2000, description="Lý do trả lại")
    on_behalf_of: UUID | None = None


class ApprovalOut(BaseModel):
    id: str
    document_id: str
    document_type: str
    drafting_unit: str
    signer_id: str
    steps: list[StepName]
    # The step waiting for a decision; null once approved, returned or issued.
    step: StepName | None
    state: ApprovalStateName
    round: int
    version: int
    submitted_by: str
    submitted_at: datetime
    updated_at: datetime
    # "person:<id>", "unit:<code>" or "role:clerk"; null when it waits for nobody.
    waiting_for: str | None


class ApprovalActionOut(BaseModel):
    round: int
    step: str
    decision: Literal["submitted", "approved", "signed", "returned", "issued"]
    actor: str
    on_behalf_of: str | None
    comment: str
    version: int
    at: datetime


class ApprovalViewOut(ApprovalOut):
    history: list[ApprovalActionOut]


class ApprovalsOut(BaseModel):
    approvals: list[ApprovalOut]
    next_page_token: str | None = None


class ApprovalChainIn(_Body):
    document_type: str = Field(
        default="",
        max_length=100,
        description="A catalogue type; empty: every type without its own",
    )
    steps: list[StepName] = Field(min_length=1, max_length=4)


class ApprovalChainOut(BaseModel):
    document_type: str
    steps: list[StepName]


class ApprovalChainsOut(BaseModel):
    chains: list[ApprovalChainOut]
