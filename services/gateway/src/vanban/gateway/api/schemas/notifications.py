"""Bodies of the notifications inbox."""

from __future__ import annotations

from datetime import datetime

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
