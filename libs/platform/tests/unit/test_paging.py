"""Keyset page tokens of newest-first listings."""

from __future__ import annotations

import pytest

from vanban.platform.errors import DomainError
from vanban.platform.paging import encode_token, filtered_page, keyset_after


def test_a_token_gives_back_the_position_it_was_made_from() -> None:
    token = encode_token({"opened_at": "2026-11-29T09:00:00+00:00", "id": "d1"})
    assert keyset_after(token, moment="opened_at") == ("2026-11-29T09:00:00+00:00", "d1")
    assert keyset_after("", moment="opened_at") is None


@pytest.mark.parametrize(
    "position",
    [
        {"opened_at": "yesterday", "id": "d1"},  # not a time
        {"proposed_at": "2026-11-29T09:00:00+00:00", "id": "d1"},  # another listing's token
        {"opened_at": "2026-11-29T09:00:00+00:00"},  # no id
    ],
)
def test_a_token_this_listing_did_not_give_out_is_refused(position: dict[str, str]) -> None:
    with pytest.raises(DomainError) as refused:
        keyset_after(encode_token(position), moment="opened_at")
    assert refused.value.reason == "INVALID_PAGE_TOKEN"
    with pytest.raises(DomainError):
        keyset_after("not-a-token!", moment="opened_at")


async def test_a_filtered_page_skips_hidden_rows_and_resumes_after_the_last_shown() -> None:
    rows = [(f"2026-11-{30 - n:02d}T00:00:00+00:00", f"r{n}") for n in range(10)]

    async def fetch(after: tuple[str, str] | None, limit: int) -> list[tuple[str, str]]:
        start = 0 if after is None else rows.index(after) + 1
        return rows[start : start + limit]

    async def shown(row: tuple[str, str]) -> bool:
        return int(row[1][1:]) % 2 == 0  # every other row is hidden

    first, token = await filtered_page(
        fetch, shown, lambda r: r, moment="opened_at", size=3, after=None
    )
    assert [r[1] for r in first] == ["r0", "r2", "r4"]
    rest, end = await filtered_page(
        fetch,
        shown,
        lambda r: r,
        moment="opened_at",
        size=3,
        after=keyset_after(token, moment="opened_at"),
    )
    assert [r[1] for r in rest] == ["r6", "r8"] and end == ""
