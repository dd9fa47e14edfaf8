"""Bodies of the webhooks API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

EventType = Literal["incoming_document.registered"]


class WebhookIn(BaseModel):
    # https only, to a public address (docs/webhooks.md); notify checks where it resolves.
    url: str = Field(min_length=1, max_length=2048)
    event_types: list[EventType] = Field(min_length=1, max_length=20)
    description: str = Field(default="", max_length=500)


class WebhookPatch(BaseModel):
    # True enables (and clears why it was disabled); false disables.
    enabled: bool | None = None
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=500)


class WebhookOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str
    # enabled or disabled
    state: str
    disabled_reason: str | None = None
    created_by: str
    created_at: datetime
    # Since when deliveries have been failing; absent while they succeed.
    failing_since: datetime | None = None
    pending: int


class WebhookCreatedOut(WebhookOut):
    # whsec_...: the HMAC-SHA256 key of the signatures; shown here only, never again.
    secret: str


class AttemptOut(BaseModel):
    at: datetime
    # The endpoint's HTTP status; 0 when it did not answer.
    status_code: int
    error: str | None = None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    # pending or delivered
    state: str
    created_at: datetime
    delivered_at: datetime | None = None
    attempt_count: int
    # Newest first, the last 20 at most.
    attempts: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_page_token: str | None = None
