"""Bodies of the API keys of agency systems."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="Which system uses the key")
    scopes: list[str] = Field(
        min_length=1, max_length=10, description="incoming:register, incoming:read"
    )
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="Shown once: send it as Authorization: Bearer <key>")
