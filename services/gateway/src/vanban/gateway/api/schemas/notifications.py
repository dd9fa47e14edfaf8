"""Bodies of the notifications inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field


class NotificationOut(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    resource: str
    created_at: datetime
    read: bool
    # 1, 2, 3 ... among the person's notices, in the order they were recorded; the live
    # stream's event id.
    sequence: int


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_page_token: str | None = None


class UnreadCount(BaseModel):
    unread: int
    # The sequence of the person's newest notice (0: none yet).
    latest_sequence: int


class ReadAll(BaseModel):
    # Only notices up to this sequence (what the person has seen); left out: all of them.
    up_to_sequence: int | None = Field(default=None, ge=1, le=10**18 - 1)


class ReadAllOut(BaseModel):
    marked: int


EmailMode = Literal["each", "digest", "off"]
Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class PreferencesIn(BaseModel):
    # E-mail per kind of notice (e.g. "task_assigned": "each"); kinds left out keep their
    # default (each for what one must act on, digest for the rest).
    email: dict[str, EmailMode] = Field(default_factory=dict, max_length=50)
    # On the agency's clock (Asia/Ho_Chi_Minh): e-mails wait until the quiet hours end.
    quiet_start: Clock | None = None
    quiet_end: Clock | None = None
    # When the daily digest goes (17:00 unless chosen).
    digest_time: Clock | None = None


class PreferencesOut(BaseModel):
    email: dict[str, str]
    quiet_start: str | None = None
    quiet_end: str | None = None
    digest_time: str
    # Every kind's mode, defaults included.
    effective_email: dict[str, str]


class EmailDeliveryOut(BaseModel):
    id: str
    person_id: str
    address: str
    notification_id: str
    kind: str
    # each or digest
    mode: str
    # pending, sent, failed, or cancelled (turned off by the person after it was queued)
    state: str
    created_at: datetime
    due_at: datetime
    attempts: int
    # The relay's words at the last failure.
    last_error: str | None = None
    sent_at: datetime | None = None


class EmailDeliveryPage(BaseModel):
    items: list[EmailDeliveryOut]
    next_page_token: str | None = None
