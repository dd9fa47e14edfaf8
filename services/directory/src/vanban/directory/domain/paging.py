"""Opaque page tokens: the client hands back what it got, and cannot read or forge a meaning."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from vanban.platform.errors import invalid_fields

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class PeoplePage:
    """Where a listing of people resumes: after `after_username`, under the same role filter."""

    after_username: str
    role: str


def page_size(requested: int) -> int:
    """0 asks for the default; a size above the maximum is lowered to it (AIP-158)."""
    if requested < 0:
        raise invalid_fields({"page_size": "must not be negative"}, reason="INVALID_PAGE")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def encode_people_page(page: PeoplePage) -> str:
    raw = json.dumps({"u": page.after_username, "r": page.role}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_people_page(token: str, *, role: str) -> PeoplePage | None:
    """The position a token points at; a token from another listing is refused."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        page = PeoplePage(after_username=str(data["u"]), role=str(data["r"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid_fields(
            {"page_token": "is not a token this listing gave out"}, reason="INVALID_PAGE_TOKEN"
        ) from None
    if page.role != role:
        raise invalid_fields(
            {"page_token": "belongs to a listing with another role filter"},
            reason="INVALID_PAGE_TOKEN",
        )
    return page
