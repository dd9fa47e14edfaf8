"""Keyset page tokens of newest-first listings."""

from __future__ import annotations

import pytest

from vanban.platform.errors import DomainError
from vanban.platform.paging import encode_token, keyset_after


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
