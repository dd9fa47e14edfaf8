"""Opaque page tokens for the inbox: a keyset position (created_at, id), newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

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


class Positioned(Protocol):
    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> str: ...


P = TypeVar("P", bound=Positioned)


def one_page(found: Sequence[P], size: int) -> tuple[list[P], str]:
    """A page of at most `size` out of `size + 1` fetched, newest first, and the token of the
    next (empty when there is none)."""
    if len(found) <= size:
        return list(found), ""
    page = list(found[:size])
    return page, encode_position(InboxPosition(created_at=page[-1].created_at, id=page[-1].id))


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
