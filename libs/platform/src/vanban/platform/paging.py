"""List paging shared by every service (AIP-158): page sizes and opaque page tokens.

A token is the keyset position where the next page starts, serialised so the client hands back
what it got without reading a meaning into it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from vanban.platform.errors import invalid_fields

T = TypeVar("T")


def page_size(requested: int, *, default: int, maximum: int) -> int:
    """0 asks for the default; a size above the maximum is lowered to it."""
    if requested < 0:
        raise invalid_fields({"page_size": "must not be negative"}, reason="INVALID_PAGE")
    if requested == 0:
        return default
    return min(requested, maximum)


def encode_token(position: Mapping[str, str]) -> str:
    raw = json.dumps(dict(position), separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def bad_token(detail: str = "is not a token this listing gave out") -> Exception:
    return invalid_fields({"page_token": detail}, reason="INVALID_PAGE_TOKEN")


def decode_token(token: str) -> dict[str, str]:
    """The position a token holds; anything this platform did not give out is refused."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, RecursionError):  # RecursionError: "[[[[..." forged
        raise bad_token() from None
    if not isinstance(data, dict) or not all(
        isinstance(v, str) and "\x00" not in v for v in data.values()
    ):
        raise bad_token()
    return data


def keyset_after(token: str, *, moment: str) -> tuple[str, str] | None:
    """The position a newest-first listing's token holds: the `moment` (an ISO 8601 time) and
    the id of the last item shown; None when there is no token. Anything else is refused."""
    if not token:
        return None
    position = decode_token(token)
    if set(position) != {moment, "id"}:
        raise bad_token()
    try:
        datetime.fromisoformat(position[moment])
    except ValueError:
        raise bad_token() from None
    return position[moment], position["id"]


async def filtered_page(
    fetch: Callable[[tuple[str, str] | None, int], Awaitable[Sequence[T]]],
    shown: Callable[[T], Awaitable[bool]],
    position: Callable[[T], tuple[str, str]],
    *,
    moment: str,
    size: int,
    after: tuple[str, str] | None,
) -> tuple[list[T], str]:
    """A page of a newest-first listing whose rows the caller may not all see: rows are read in
    batches from `after` and those `shown` rejects are skipped, until the page is full or the
    rows run out. The token (empty at the end) holds the `position` (`moment`, id) of the last
    row shown."""
    page: list[T] = []
    while True:
        batch = await fetch(after, size * 2)
        for row in batch:
            after = position(row)
            if await shown(row):
                page.append(row)
                if len(page) == size:
                    at, row_id = after
                    return page, encode_token({moment: at, "id": row_id})
        if len(batch) < size * 2:
            return page, ""
