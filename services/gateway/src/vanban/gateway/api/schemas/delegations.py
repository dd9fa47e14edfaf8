"""Bodies of delegations (ủy quyền)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class DelegationRecordOut(BaseModel):
    id: str
    from_person_id: str
    to_person_id: str
    scope: list[str]
    starts_at: AwareDatetime
    ends_at: AwareDatetime = Field(description="Not included")
    reason: str | None = Field(description="null when `redacted`")
    created_at: AwareDatetime
    created_by: str
    revoked_at: AwareDatetime | None
    revoked_by: str | None
    revoke_reason: str | None
    redacted: bool = Field(
        description="true: reason and revoke_reason are left out, as they are for everyone but "
        "the delegation's two people and administrators"
    )


class DelegationList(BaseModel):
    items: list[DelegationRecordOut] = Field(description="Ordered by start")
    next_page_token: str | None = None


class DelegationIn(BaseModel):
    """Ủy quyền: `to_person_id` may act for `from_person_id` in `scope` from `starts_at` until
    (not including) `ends_at`."""

    model_config = ConfigDict(extra="forbid")

    from_person_id: UUID
    to_person_id: UUID
    scope: list[Annotated[str, Field(max_length=32)]] = Field(
        min_length=1, max_length=10, description="Among assign, approve, sign, forward, handle"
    )
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field(max_length=500)


class DelegationRevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)
