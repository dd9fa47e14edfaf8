"""Bodies of the signed-in person's own routes: who they are, their password."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class DelegationOut(BaseModel):
    id: str
    from_person_id: str
    scope: list[str]
    starts_at: datetime
    ends_at: datetime


class MeOut(BaseModel):
    id: str
    username: str
    full_name: str
    position_title: str
    agency_code: str
    roles: list[str]
    units: list[str]
    clearance: str
    password_must_change: bool = False
    # Delegations (ủy quyền) this person holds right now, to act for someone else.
    acting_for: list[DelegationOut] = []
