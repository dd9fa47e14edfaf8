from __future__ import annotations

from datetime import timedelta

import pytest

from services.directory.tests.unit.fakes import (
    ADMIN,
    NOW,
    SERVICE,
    FakeTransaction,
    make_person,
    person_caller,
)
from services.directory.tests.unit.fakes import make_delegation_draft as make_draft
from vanban.directory.domain import delegation_service as delegations
from vanban.directory.domain import person_service
from vanban.directory.domain.events import DelegationCreated, DelegationRevoked
from vanban.directory.domain.model import Role
from vanban.platform.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)

DAY = timedelta(days=1)


def people() -> FakeTransaction:
    tx = FakeTransaction()
    for username in ("lanhdao", "phochutich", "truongphong"):
        tx.people.put(
            make_person(id=username, username=username, roles=frozenset({Role.AGENCY_LEADER}))
        )
    tx.people.put(make_person(id="quantri", username="quantri", roles=frozenset({Role.ADMIN})))
    return tx


LEADER = person_caller("lanhdao", "agency_leader")


async def test_the_delegator_creates_a_delegation_published_and_audited() -> None:
    tx = people()
    delegation = await delegations.create_delegation(
        tx=tx, caller=LEADER, draft=make_draft(), now=NOW
    )
    assert delegation.scope == frozenset({"sign", "approve"})
    assert delegation.created_by == "lanhdao" and delegation.revoked_at is None
    assert tx.delegations.rows == {delegation.id: delegation}
    assert tx.delegations.locked == ["lanhdao"]
    assert tx.events == [DelegationCreated(delegation=delegation, occurred_at=NOW)]
    assert tx.audits[0]["action"] == "delegation.create"
    assert tx.audits[0]["after"]["to_person_id"] == "phochutich"


async def test_an_admin_or_a_service_may_create_one_for_someone_else_others_may_not() -> None:
    tx = people()
    for caller in (person_caller("phochutich", "agency_leader"), person_caller("x", "clerk")):
        with pytest.raises(PermissionDeniedError) as raised:
            await delegations.create_delegation(tx=tx, caller=caller, draft=make_draft(), now=NOW)
        assert raised.value.reason == "NOT_DELEGATOR"
    first = await delegations.create_delegation(
        tx=tx, caller=ADMIN, draft=make_draft(scope=("sign",)), now=NOW
    )
    assert first.created_by == "admin-1"
    await delegations.create_delegation(
        tx=tx, caller=SERVICE, draft=make_draft(scope=("assign",)), now=NOW
    )


async def test_self_delegation_is_refused() -> None:
    tx = people()
    with pytest.raises(InvalidArgumentError) as raised:
        await delegations.create_delegation(
            tx=tx, caller=LEADER, draft=make_draft(to_person_id="lanhdao"), now=NOW
        )
    assert raised.value.violations[0].field == "to_person_id"
    assert tx.delegations.rows == {}


async def test_both_people_must_exist_and_be_active() -> None:
    tx = people()
    tx.people.deactivate("phochutich")
    with pytest.raises(InvalidArgumentError) as raised:
        await delegations.create_delegation(tx=tx, caller=LEADER, draft=make_draft(), now=NOW)
    assert raised.value.reason == "UNKNOWN_PERSON"
    assert [v.field for v in raised.value.violations] == ["to_person_id"]
    with pytest.raises(InvalidArgumentError):
        await delegations.create_delegation(
            tx=tx, caller=ADMIN, draft=make_draft(from_person_id="khongco"), now=NOW
        )


async def test_an_overlapping_delegation_of_the_same_action_is_refused() -> None:
    tx = people()
    first = await delegations.create_delegation(tx=tx, caller=LEADER, draft=make_draft(), now=NOW)
    for draft in (
        make_draft(),  # the very same
        make_draft(scope=("sign",), to_person_id="truongphong"),  # another delegate, same action
        make_draft(starts_at=NOW + 6 * DAY, ends_at=NOW + 10 * DAY),  # overlapping at the end
    ):
        with pytest.raises(FailedPreconditionError) as raised:
            await delegations.create_delegation(tx=tx, caller=LEADER, draft=draft, now=NOW)
        assert raised.value.reason == "OVERLAPPING_DELEGATION"
        assert first.id in raised.value.message
    # Other actions, or the following week, are fine.
    await delegations.create_delegation(
        tx=tx, caller=LEADER, draft=make_draft(scope=("assign",)), now=NOW
    )
    await delegations.create_delegation(
        tx=tx,
        caller=LEADER,
        draft=make_draft(starts_at=NOW + 7 * DAY, ends_at=NOW + 14 * DAY),
        now=NOW,
    )
    # Another leader delegating the same action at the same time is unrelated.
    await delegations.create_delegation(
        tx=tx,
        caller=person_caller("truongphong", "unit_head"),
        draft=make_draft(from_person_id="truongphong"),
        now=NOW,
    )


async def test_a_revoked_delegation_frees_its_dates() -> None:
    tx = people()
    first = await delegations.create_delegation(tx=tx, caller=LEADER, draft=make_draft(), now=NOW)
    revoked = await delegations.revoke_delegation(
        tx=tx, caller=LEADER, delegation_id=first.id, reason="Đã về sớm", now=NOW + DAY
    )
    assert revoked.revoked_at == NOW + DAY and revoked.revoked_by == "lanhdao"
    assert revoked.revoke_reason == "Đã về sớm"
    assert tx.events[-1] == DelegationRevoked(delegation=revoked, occurred_at=NOW + DAY)
    assert tx.audits[-1]["action"] == "delegation.revoke"
    await delegations.create_delegation(
        tx=tx, caller=LEADER, draft=make_draft(starts_at=NOW + DAY), now=NOW + DAY
    )


async def test_revoking_needs_the_delegator_or_an_admin_and_an_open_delegation() -> None:
    tx = people()
    first = await delegations.create_delegation(tx=tx, caller=LEADER, draft=make_draft(), now=NOW)
    with pytest.raises(PermissionDeniedError):
        await delegations.revoke_delegation(
            tx=tx,
            caller=person_caller("phochutich", "agency_leader"),
            delegation_id=first.id,
            reason="",
            now=NOW,
        )
    with pytest.raises(FailedPreconditionError) as raised:
        await delegations.revoke_delegation(
            tx=tx, caller=ADMIN, delegation_id=first.id, reason="", now=NOW + 8 * DAY
        )
    assert raised.value.reason == "DELEGATION_ENDED"
    await delegations.revoke_delegation(
        tx=tx, caller=ADMIN, delegation_id=first.id, reason="", now=NOW
    )
    with pytest.raises(FailedPreconditionError) as raised:
        await delegations.revoke_delegation(
            tx=tx, caller=ADMIN, delegation_id=first.id, reason="", now=NOW
        )
    assert raised.value.reason == "DELEGATION_REVOKED"
    with pytest.raises(NotFoundError):
        await delegations.revoke_delegation(
            tx=tx, caller=ADMIN, delegation_id="khongco", reason="", now=NOW
        )


async def test_deactivating_a_person_revokes_their_open_delegations_both_ways() -> None:
    tx = people()
    given = await delegations.create_delegation(tx=tx, caller=LEADER, draft=make_draft(), now=NOW)
    received = await delegations.create_delegation(
        tx=tx,
        caller=ADMIN,
        draft=make_draft(from_person_id="truongphong", to_person_id="lanhdao"),
        now=NOW,
    )
    unrelated = await delegations.create_delegation(
        tx=tx,
        caller=ADMIN,
        draft=make_draft(
            from_person_id="truongphong", to_person_id="phochutich", scope=("assign",)
        ),
        now=NOW,
    )
    await person_service.deactivate_person(tx=tx, caller=ADMIN, person_id="lanhdao", now=NOW + DAY)
    rows = tx.delegations.rows
    assert rows[given.id].revoked_at == NOW + DAY
    assert rows[received.id].revoke_reason == "person deactivated"
    assert rows[unrelated.id].revoked_at is None
    revoked = [e.delegation.id for e in tx.events if isinstance(e, DelegationRevoked)]
    assert sorted(revoked) == sorted([given.id, received.id])


async def test_list_by_person_and_instant_pages_in_start_order() -> None:
    tx = people()
    made = []
    for week in range(5):
        made.append(
            await delegations.create_delegation(
                tx=tx,
                caller=LEADER,
                draft=make_draft(
                    starts_at=NOW + week * 7 * DAY, ends_at=NOW + (week + 1) * 7 * DAY
                ),
                now=NOW,
            )
        )
    seen = []
    token = ""
    while True:
        page, token = await delegations.list_delegations(
            tx=tx, person_id="phochutich", active_at=None, requested_page_size=2, page_token=token
        )
        seen.extend(page)
        if not token:
            break
    assert seen == made
    [active] = (
        await delegations.list_delegations(
            tx=tx,
            person_id="lanhdao",
            active_at=NOW + 10 * DAY,
            requested_page_size=0,
            page_token="",
        )
    )[0]
    assert active == made[1]
    nobody, _ = await delegations.list_delegations(
        tx=tx, person_id="truongphong", active_at=None, requested_page_size=0, page_token=""
    )
    assert nobody == []
    _, token = await delegations.list_delegations(
        tx=tx, person_id="", active_at=None, requested_page_size=1, page_token=""
    )
    with pytest.raises(InvalidArgumentError):
        await delegations.list_delegations(
            tx=tx, person_id="lanhdao", active_at=None, requested_page_size=1, page_token=token
        )
