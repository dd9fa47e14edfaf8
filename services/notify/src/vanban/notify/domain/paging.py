"""Opaque page tokens for the inbox: a keyset position (created_at, id), newest first."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from vanban.platform.errors import invalid_fields

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class InboxPosition:
    """The last notification of a page; the next page holds only older ones."""

    created_at: datetime
    id: str


def page_size(requested: int) -> int:
    """0 asks for the default; a size above the maximum is lowered to it (AIP-158)."""
    if requested < 0:
        raise invalid_fields({"page_size": "must not be negative"}, reason="INVALID_PAGE")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def encode_position(position: InboxPosition) -> str:
    raw = json.dumps(
        {"t": position.created_at.isoformat(), "i": position.id}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_position(token: str) -> InboxPosition | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position = InboxPosition(created_at=datetime.fromisoformat(data["t"]), id=str(data["i"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid_fields(
            {"page_token": "is not a token this listing gave out"}, reason="INVALID_PAGE_TOKEN"
        ) from None
    if position.created_at.tzinfo is None:
        raise invalid_fields(
            {"page_token": "is not a token this listing gave out"}, reason="INVALID_PAGE_TOKEN"
        )
    return position
