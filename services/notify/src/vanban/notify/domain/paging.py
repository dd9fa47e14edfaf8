"""Opaque page tokens for the inbox: a keyset position (created_at, id), newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vanban.platform import paging

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class InboxPosition:
    """The last notification of a page; the next page holds only older ones."""

    created_at: datetime
    id: str


def page_size(requested: int) -> int:
    return paging.page_size(requested, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


def encode_position(position: InboxPosition) -> str:
    return paging.encode_token({"t": position.created_at.isoformat(), "i": position.id})


def decode_position(token: str) -> InboxPosition | None:
    if not token:
        return None
    data = paging.decode_token(token)
    try:
        position = InboxPosition(created_at=datetime.fromisoformat(data["t"]), id=data["i"])
    except (ValueError, KeyError):
        raise paging.bad_token() from None
    if position.created_at.tzinfo is None:
        raise paging.bad_token()
    return position
