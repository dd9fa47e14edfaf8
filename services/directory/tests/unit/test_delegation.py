from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.directory.tests.unit.fakes import NOW, make_delegation
from services.directory.tests.unit.fakes import make_delegation_draft as make_draft
from vanban.platform.errors import InvalidArgumentError

DAY = timedelta(days=1)


def fields_of(error: InvalidArgumentError) -> dict[str, str]:
    return {v.field: v.description for v in error.violations}


def test_a_valid_draft_is_normalised() -> None:
    draft = make_draft(scope=(" Sign ", "approve", "sign"), reason="  Đi   công tác ")
    clean = draft.validated(now=NOW)
    assert clean.scope == frozenset({"sign", "approve"})
    assert clean.reason == "Đi công tác"


def test_the_end_must_come_after_the_start() -> None:
    for ends_at in (NOW, NOW - DAY):
        with pytest.raises(InvalidArgumentError) as raised:
            make_draft(ends_at=ends_at).validated(now=NOW - 2 * DAY)
        assert fields_of(raised.value) == {"ends_at": "must be after starts_at"}


def test_a_delegation_already_over_is_refused_but_one_started_earlier_is_fine() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        make_draft(starts_at=NOW - 3 * DAY, ends_at=NOW - DAY).validated(now=NOW)
    assert fields_of(raised.value) == {"ends_at": "is already past"}
    make_draft(starts_at=NOW - DAY, ends_at=NOW + DAY).validated(now=NOW)


def test_nobody_delegates_to_themselves() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        make_draft(to_person_id=" lanhdao ").validated(now=NOW)
    assert fields_of(raised.value) == {"to_person_id": "a person cannot delegate to themselves"}


def test_missing_reason_dates_scope_and_unknown_actions_are_all_named() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        make_draft(reason="  ", starts_at=None, ends_at=None, scope=()).validated(now=NOW)
    assert set(fields_of(raised.value)) == {"reason", "starts_at", "ends_at", "scope"}
    with pytest.raises(InvalidArgumentError) as raised:
        make_draft(scope=("sign", "admin", "delete")).validated(now=NOW)
    assert "admin, delete" in fields_of(raised.value)["scope"]
    with pytest.raises(InvalidArgumentError) as raised:
        make_draft(starts_at=datetime(2026, 3, 2, 8, 0)).validated(now=NOW)
    assert fields_of(raised.value) == {"starts_at": "must carry a time zone"}


def test_active_at_respects_dates_and_a_revocation_only_from_its_moment() -> None:
    delegation = make_delegation()
    assert not delegation.active_at(NOW - timedelta(seconds=1))
    assert delegation.active_at(NOW)
    assert delegation.active_at(NOW + 7 * DAY - timedelta(seconds=1))
    assert not delegation.active_at(NOW + 7 * DAY)  # the end is not included
    revoked = make_delegation(revoked_at=NOW + 2 * DAY, revoked_by="lanhdao")
    assert revoked.active_at(NOW + DAY)  # history stays true
    assert not revoked.active_at(NOW + 2 * DAY)


def test_conflicts_need_the_same_delegator_overlapping_dates_and_a_shared_action() -> None:
    existing = make_delegation(scope=frozenset({"sign", "approve"}))
    assert existing.conflicts_with(make_draft(scope=("sign", "approve")))  # identical scope
    assert existing.conflicts_with(make_draft(scope=("sign",), to_person_id="other"))
    assert existing.conflicts_with(make_draft(starts_at=NOW + 6 * DAY, ends_at=NOW + 9 * DAY))
    assert not existing.conflicts_with(make_draft(scope=("assign", "forward")))
    # Back to back: one ends exactly when the next starts.
    assert not existing.conflicts_with(make_draft(starts_at=NOW + 7 * DAY, ends_at=NOW + 8 * DAY))
    assert not existing.conflicts_with(make_draft(from_person_id="truongphong"))
    revoked = make_delegation(revoked_at=NOW, revoked_by="admin")
    assert not revoked.conflicts_with(make_draft())
