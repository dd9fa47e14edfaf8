"""Opaque page tokens: people listings (after a username, under one role filter) and
delegation listings (after a start and an id, under one filter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vanban.platform import paging

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class PeoplePage:
    """Where a listing of people resumes: after `after_username`, under the same role filter."""

    after_username: str
    role: str


def page_size(requested: int) -> int:
    return paging.page_size(requested, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


def encode_people_page(page: PeoplePage) -> str:
    return paging.encode_token({"u": page.after_username, "r": page.role})


def decode_people_page(token: str, *, role: str) -> PeoplePage | None:
    """The position a token points at; a token from another listing is refused."""
    if not token:
        return None
    data = paging.decode_token(token)
    try:
        page = PeoplePage(after_username=data["u"], role=data["r"])
    except KeyError:
        raise paging.bad_token() from None
    if page.role != role:
        raise paging.bad_token("belongs to a listing with another role filter")
    return page


@dataclass(frozen=True, slots=True)
class DelegationsPage:
    """Where a listing of delegations resumes, and the filter it belongs to."""

    after_starts_at: datetime
    after_id: str
    filter_key: str


def encode_delegations_page(page: DelegationsPage) -> str:
    return paging.encode_token(
        {"s": page.after_starts_at.isoformat(), "i": page.after_id, "f": page.filter_key}
    )


def decode_delegations_page(token: str, *, filter_key: str) -> DelegationsPage | None:
    if not token:
        return None
    data = paging.decode_token(token)
    try:
        page = DelegationsPage(
            after_starts_at=datetime.fromisoformat(data["s"]),
            after_id=data["i"],
            filter_key=data["f"],
        )
    except (KeyError, ValueError):
        raise paging.bad_token() from None
    if page.filter_key != filter_key or page.after_starts_at.tzinfo is None:
        raise paging.bad_token("belongs to a listing with another filter")
    return page
