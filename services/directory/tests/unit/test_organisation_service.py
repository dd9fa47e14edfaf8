from __future__ import annotations

from dataclasses import replace

import pytest

from services.directory.tests.unit.fakes import (
    ADMIN,
    AGENCY,
    NOW,
    SERVICE,
    FakeTransaction,
    make_person,
    person_caller,
)
from vanban.directory.domain import organisation_service as org
from vanban.directory.domain.events import AgencyUpdated, UnitDeleted, UnitUpserted
from vanban.directory.domain.model import AgencyChanges
from vanban.directory.domain.unit import Unit, UnitChanges
from vanban.platform.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)


def with_tree(*units: Unit) -> FakeTransaction:
    tx = FakeTransaction()
    tx.agency.value = AGENCY
    for unit in units:
        tx.units.rows[unit.code] = unit.validated()
    return tx


VP = Unit(code="VP", name="Văn phòng")
PTH = Unit(code="PTH", name="Phòng Tổng hợp", parent_code="VP")
TH1 = Unit(code="TH1", name="Tổ 1", parent_code="PTH")


async def test_an_admin_updates_the_agency_profile_and_it_is_audited_and_published() -> None:
    tx = with_tree()
    updated = await org.update_agency(
        tx=tx,
        caller=ADMIN,
        changes=AgencyChanges(
            address="Số 1 đường Trần Phú", phone="+84 238 3844 111", email="VP@demo.gov.vn"
        ),
        now=NOW,
    )
    assert updated.email == "vp@demo.gov.vn"
    assert updated.name == AGENCY.name and updated.abbreviation == "UBND"
    assert tx.agency.value == updated
    assert tx.events == [AgencyUpdated(agency=updated, occurred_at=NOW)]
    [entry] = tx.audits
    assert entry["action"] == "agency.update"
    assert entry["before"]["address"] == ""
    assert entry["after"]["address"] == "Số 1 đường Trần Phú"


async def test_the_agency_code_cannot_change_but_may_be_repeated() -> None:
    tx = with_tree()
    with pytest.raises(InvalidArgumentError) as raised:
        await org.update_agency(
            tx=tx, caller=ADMIN, changes=AgencyChanges(code="000.00.00.H41"), now=NOW
        )
    assert raised.value.reason == "CODE_IMMUTABLE"
    same = await org.update_agency(
        tx=tx, caller=ADMIN, changes=AgencyChanges(code=AGENCY.code, name="UBND tỉnh"), now=NOW
    )
    assert same.code == AGENCY.code and same.name == "UBND tỉnh"


async def test_bad_agency_fields_are_all_named_and_nothing_changes() -> None:
    tx = with_tree()
    with pytest.raises(InvalidArgumentError) as raised:
        await org.update_agency(
            tx=tx,
            caller=ADMIN,
            changes=AgencyChanges(name="", phone="gọi tôi", email="không-phải-email", website="x"),
            now=NOW,
        )
    assert {v.field for v in raised.value.violations} == {"name", "phone", "email", "website"}
    assert tx.agency.value == AGENCY and tx.commits == 0


async def test_an_unchanged_profile_writes_nothing() -> None:
    tx = with_tree()
    assert await org.update_agency(tx=tx, caller=ADMIN, changes=AgencyChanges(), now=NOW) == AGENCY
    assert tx.commits == 0 and tx.events == []


@pytest.mark.parametrize("roles", [("clerk",), ("agency_leader", "unit_head"), ()])
async def test_only_an_admin_or_a_service_changes_the_organisation(roles: tuple[str, ...]) -> None:
    tx = with_tree(VP)
    caller = replace(person_caller("p1"), roles=frozenset(roles))
    with pytest.raises(PermissionDeniedError):
        await org.update_agency(tx=tx, caller=caller, changes=AgencyChanges(name="X"), now=NOW)
    with pytest.raises(PermissionDeniedError):
        await org.create_unit(tx=tx, caller=caller, unit=PTH, now=NOW)
    with pytest.raises(PermissionDeniedError):
        await org.update_unit(tx=tx, caller=caller, code="VP", changes=UnitChanges(), now=NOW)
    with pytest.raises(PermissionDeniedError):
        await org.delete_unit(tx=tx, caller=caller, code="VP", now=NOW)
    assert tx.commits == 0
    await org.create_unit(tx=tx, caller=SERVICE, unit=PTH, now=NOW)


async def test_creating_units_builds_the_tree() -> None:
    tx = with_tree()
    head = tx.people.put(make_person(username="truongphong"))
    deputy = tx.people.put(make_person(username="phophong"))
    vp = await org.create_unit(
        tx=tx,
        caller=ADMIN,
        unit=Unit(
            code="VP", name="Văn phòng", head_person_id=head.id, deputy_person_ids=(deputy.id,)
        ),
        now=NOW,
    )
    await org.create_unit(tx=tx, caller=ADMIN, unit=PTH, now=NOW)
    assert [u.code for u in await org.list_units(tx=tx)] == ["VP", "PTH"]
    assert await org.get_unit(tx=tx, code="VP") == vp
    assert [type(e) for e in tx.events] == [UnitUpserted, UnitUpserted]
    assert [a["action"] for a in tx.audits] == ["unit.create", "unit.create"]


async def test_a_unit_needs_an_existing_parent_and_active_people_and_a_free_code() -> None:
    tx = with_tree(VP)
    gone = tx.people.put(make_person(username="danghi", active=False))
    with pytest.raises(InvalidArgumentError) as raised:
        await org.create_unit(
            tx=tx, caller=ADMIN, unit=Unit(code="X", name="X", parent_code="KHONGCO"), now=NOW
        )
    assert raised.value.reason == "UNKNOWN_UNIT"
    with pytest.raises(InvalidArgumentError) as raised:
        await org.create_unit(
            tx=tx,
            caller=ADMIN,
            unit=Unit(code="X", name="X", head_person_id=gone.id, deputy_person_ids=("nobody",)),
            now=NOW,
        )
    assert {v.field for v in raised.value.violations} == {"head_person_id", "deputy_person_ids"}
    with pytest.raises(AlreadyExistsError):
        await org.create_unit(tx=tx, caller=ADMIN, unit=Unit(code="VP", name="Khác"), now=NOW)
    assert tx.commits == 0


async def test_moving_a_unit_under_its_own_descendant_is_refused() -> None:
    tx = with_tree(VP, PTH, TH1)
    for target in ("PTH", "TH1"):
        with pytest.raises(FailedPreconditionError) as raised:
            await org.update_unit(
                tx=tx, caller=ADMIN, code="VP", changes=UnitChanges(parent_code=target), now=NOW
            )
        assert raised.value.reason == "UNIT_CYCLE"
        assert "VP" in raised.value.message and target in raised.value.message
    assert tx.units.locks == ["exclusive", "exclusive"]
    assert tx.units.rows["VP"].parent_code is None and tx.commits == 0


async def test_a_unit_moves_elsewhere_and_becomes_a_root_again() -> None:
    tx = with_tree(VP, PTH, TH1, Unit(code="PNV", name="Phòng Nội vụ"))
    moved = await org.update_unit(
        tx=tx, caller=ADMIN, code="TH1", changes=UnitChanges(parent_code="PNV"), now=NOW
    )
    assert moved.parent_code == "PNV"
    root = await org.update_unit(
        tx=tx, caller=ADMIN, code="PTH", changes=UnitChanges(parent_code=""), now=NOW
    )
    assert root.parent_code is None
    assert [u.code for u in await org.list_units(tx=tx)] == ["PNV", "TH1", "PTH", "VP"]
    [first, second] = tx.audits
    assert first["before"]["parent_code"] == "PTH"
    assert first["after"]["parent_code"] == "PNV"
    assert second["action"] == "unit.update"


async def test_a_head_since_deactivated_does_not_block_a_rename() -> None:
    tx = with_tree()
    head = tx.people.put(make_person(username="truongphong"))
    tx.units.rows["VP"] = replace(VP, head_person_id=head.id)
    tx.people.deactivate("truongphong")
    renamed = await org.update_unit(
        tx=tx, caller=ADMIN, code="VP", changes=UnitChanges(name="Văn phòng UBND"), now=NOW
    )
    assert renamed.head_person_id == head.id
    tx.units.rows["PTH"] = PTH
    with pytest.raises(InvalidArgumentError) as raised:
        await org.update_unit(
            tx=tx, caller=ADMIN, code="PTH", changes=UnitChanges(head_person_id=head.id), now=NOW
        )
    assert raised.value.violations[0].field == "head_person_id"


async def test_updating_or_deleting_a_missing_unit_is_not_found() -> None:
    tx = with_tree()
    with pytest.raises(NotFoundError):
        await org.update_unit(tx=tx, caller=ADMIN, code="VP", changes=UnitChanges(), now=NOW)
    with pytest.raises(NotFoundError):
        await org.delete_unit(tx=tx, caller=ADMIN, code="VP", now=NOW)
    with pytest.raises(NotFoundError) as raised:
        await org.get_unit(tx=tx, code="VP")
    assert raised.value.reason == "UNIT_NOT_FOUND"


async def test_a_unit_with_members_or_children_cannot_be_deleted_and_says_why() -> None:
    tx = with_tree(VP, PTH)
    for name in ("vanthu", "chuyenvien", "truongphong"):
        tx.people.put(make_person(username=name, unit_codes=("VP",)))
    with pytest.raises(FailedPreconditionError) as raised:
        await org.delete_unit(tx=tx, caller=ADMIN, code="VP", now=NOW)
    error = raised.value
    assert error.reason == "UNIT_NOT_EMPTY"
    assert "3 member(s) (chuyenvien, truongphong, vanthu)" in error.message
    assert "1 child unit(s) (PTH)" in error.message
    assert error.metadata == {"members": "3", "child_units": "PTH"}

    tx.people.put(make_person(username="ketoan", unit_codes=("PTH",), active=False))
    with pytest.raises(FailedPreconditionError) as raised:
        await org.delete_unit(tx=tx, caller=ADMIN, code="PTH", now=NOW)
    assert "1 member(s) (ketoan)" in raised.value.message  # inactive members still count
    assert "child" not in raised.value.message
    assert set(tx.units.rows) == {"VP", "PTH"} and tx.commits == 0


async def test_an_empty_unit_is_deleted_with_its_last_state_published() -> None:
    tx = with_tree(VP, PTH)
    deleted = await org.delete_unit(tx=tx, caller=ADMIN, code="PTH", now=NOW)
    assert set(tx.units.rows) == {"VP"}
    assert tx.events == [UnitDeleted(unit=deleted, occurred_at=NOW)]
    assert tx.audits[0]["action"] == "unit.delete"
    assert tx.audits[0]["before"]["name"] == "Phòng Tổng hợp"
