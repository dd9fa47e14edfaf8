from __future__ import annotations

import pytest

from services.directory.tests.unit.fakes import (
    AGENCY,
    NOW,
    PASSWORD,
    FakeHasher,
    FakeTransaction,
    make_draft,
)
from vanban.directory.domain import service
from vanban.directory.domain.events import PersonUpserted, UnitUpserted
from vanban.directory.domain.model import Agency, Role
from vanban.directory.domain.service import UnitSeed
from vanban.directory.domain.unit import Unit
from vanban.platform.clearance import Clearance
from vanban.platform.errors import (
    ErrorCode,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    UnauthenticatedError,
)

PEOPLE = (
    make_draft(),
    make_draft(
        username="lanhdao",
        full_name="Trần Văn Lãnh Đạo",
        position_title="Chủ tịch",
        roles=(Role.AGENCY_LEADER,),
        unit_codes=(),
    ),
    make_draft(
        username="chuyenvien",
        full_name="Phạm Thị Chuyên Viên",
        position_title="Chuyên viên",
        roles=(Role.SPECIALIST,),
    ),
)


UNITS = (UnitSeed(unit=Unit(code="VP", name="Văn phòng"), head_username="vanthu"),)


async def bootstrapped() -> tuple[FakeTransaction, FakeHasher]:
    tx, hasher = FakeTransaction(), FakeHasher()
    await service.bootstrap(
        tx=tx, hasher=hasher, agency=AGENCY, people=PEOPLE, units=UNITS, password=PASSWORD, now=NOW
    )
    return tx, hasher


async def test_bootstrap_creates_agency_units_and_people_with_one_event_each() -> None:
    tx, hasher = FakeTransaction(), FakeHasher()
    report = await service.bootstrap(
        tx=tx, hasher=hasher, agency=AGENCY, people=PEOPLE, units=UNITS, password=PASSWORD, now=NOW
    )
    assert report.agency_created
    assert report.units_created == ("VP",)
    assert report.people_created == ("vanthu", "lanhdao", "chuyenvien")
    assert tx.agency.value == AGENCY
    people = [e.person.username for e in tx.events if isinstance(e, PersonUpserted)]
    assert sorted(people) == ["chuyenvien", "lanhdao", "vanthu"]
    # The unit is published once, with the head it got after the people were created.
    [unit_event] = [e for e in tx.events if isinstance(e, UnitUpserted)]
    vanthu = await tx.people.get_by_username("vanthu")
    assert vanthu is not None and unit_event.unit.head_person_id == vanthu.id
    assert tx.units.rows["VP"].head_person_id == vanthu.id
    assert {a["action"] for a in tx.audits} == {"agency.create", "unit.create", "person.create"}
    # No audit entry carries the password or its hash.
    assert PASSWORD not in repr(tx.audits) and "h:" not in repr(tx.audits)


async def test_bootstrap_again_changes_nothing_and_keeps_a_changed_password() -> None:
    tx, hasher = await bootstrapped()
    vanthu = await tx.people.get_by_username("vanthu")
    assert vanthu is not None
    await tx.people.set_password_hash(vanthu.id, "h:mat-khau-moi-cua-toi")
    events, audits = len(tx.events), len(tx.audits)

    report = await service.bootstrap(
        tx=tx, hasher=hasher, agency=AGENCY, people=PEOPLE, units=UNITS, password=PASSWORD, now=NOW
    )

    assert not report.agency_created
    assert report.people_created == ()
    assert report.people_kept == ("vanthu", "lanhdao", "chuyenvien")
    assert (len(tx.events), len(tx.audits)) == (events, audits)
    person, _ = await service.authenticate(
        tx=tx, hasher=hasher, username="vanthu", password="mat-khau-moi-cua-toi"
    )
    assert person.username == "vanthu"
    with pytest.raises(UnauthenticatedError):
        await service.authenticate(tx=tx, hasher=hasher, username="vanthu", password=PASSWORD)


async def test_bootstrap_refuses_a_second_agency() -> None:
    tx, hasher = await bootstrapped()
    other = Agency(code="000.00.00.H41", name="UBND tỉnh Nghệ An", abbreviation="UBND")
    with pytest.raises(FailedPreconditionError) as raised:
        await service.bootstrap(
            tx=tx, hasher=hasher, agency=other, people=PEOPLE, password=PASSWORD, now=NOW
        )
    assert raised.value.reason == "AGENCY_MISMATCH"


async def test_bootstrap_rejects_a_short_password_and_bad_fields_before_writing() -> None:
    tx, hasher = FakeTransaction(), FakeHasher()
    with pytest.raises(InvalidArgumentError) as raised:
        await service.bootstrap(
            tx=tx, hasher=hasher, agency=AGENCY, people=PEOPLE, password="ngan", now=NOW
        )
    assert raised.value.reason == "INVALID_PASSWORD"
    with pytest.raises(InvalidArgumentError) as raised:
        await service.bootstrap(
            tx=tx,
            hasher=hasher,
            agency=AGENCY,
            people=[make_draft(username="văn thư", full_name=" ", roles=())],
            password=PASSWORD,
            now=NOW,
        )
    assert {v.field for v in raised.value.violations} == {"username", "full_name", "roles"}
    assert tx.agency.value is None and tx.commits == 0


async def test_bootstrap_refuses_people_in_units_it_does_not_have() -> None:
    tx, hasher = FakeTransaction(), FakeHasher()
    with pytest.raises(InvalidArgumentError) as raised:
        await service.bootstrap(
            tx=tx, hasher=hasher, agency=AGENCY, people=PEOPLE, password=PASSWORD, now=NOW
        )
    assert raised.value.reason == "UNKNOWN_UNIT"
    assert tx.commits == 0


async def test_authenticate_returns_the_person_and_the_agency() -> None:
    tx, hasher = await bootstrapped()
    person, agency = await service.authenticate(
        tx=tx, hasher=hasher, username="  VanThu ", password=PASSWORD
    )
    assert person.username == "vanthu"
    assert person.roles == frozenset({Role.CLERK})
    assert person.clearance is Clearance.CONFIDENTIAL
    assert agency == AGENCY


async def test_unknown_user_and_wrong_password_fail_alike_and_both_check_a_hash() -> None:
    tx, hasher = await bootstrapped()
    with pytest.raises(UnauthenticatedError) as wrong_password:
        await service.authenticate(tx=tx, hasher=hasher, username="vanthu", password="sai-roi")
    with pytest.raises(UnauthenticatedError) as unknown_user:
        await service.authenticate(tx=tx, hasher=hasher, username="khongco", password="sai-roi")
    assert (wrong_password.value.reason, wrong_password.value.message) == (
        unknown_user.value.reason,
        unknown_user.value.message,
    )
    assert unknown_user.value.reason == "BAD_CREDENTIALS"
    # The unknown user's password was checked too, against the dummy hash: same work, same time.
    assert hasher.verified[-1] == hasher.dummy_hash
    assert len(hasher.verified) == 2


async def test_a_deactivated_person_cannot_sign_in_even_with_the_right_password() -> None:
    tx, hasher = await bootstrapped()
    tx.people.deactivate("vanthu")
    with pytest.raises(UnauthenticatedError) as raised:
        await service.authenticate(tx=tx, hasher=hasher, username="vanthu", password=PASSWORD)
    assert raised.value.reason == "BAD_CREDENTIALS"


async def test_an_outdated_hash_is_replaced_at_sign_in() -> None:
    tx, hasher = await bootstrapped()
    vanthu = await tx.people.get_by_username("vanthu")
    assert vanthu is not None
    await tx.people.set_password_hash(vanthu.id, f"old:{PASSWORD}")

    await service.authenticate(tx=tx, hasher=hasher, username="vanthu", password=PASSWORD)

    assert tx.people.rows[vanthu.id][1] == f"h:{PASSWORD}"
    assert tx.audits[-1]["action"] == "person.password.rehash"


async def test_empty_credentials_are_invalid_arguments() -> None:
    tx, hasher = await bootstrapped()
    with pytest.raises(InvalidArgumentError) as raised:
        await service.authenticate(tx=tx, hasher=hasher, username=" ", password="")
    assert {v.field for v in raised.value.violations} == {"username", "password"}
    assert hasher.verified == []


async def test_get_person_and_agency() -> None:
    tx, _ = await bootstrapped()
    vanthu = await tx.people.get_by_username("vanthu")
    assert vanthu is not None
    assert await service.get_person(tx=tx, person_id=vanthu.id) == vanthu
    with pytest.raises(NotFoundError):
        await service.get_person(tx=tx, person_id="00000000-0000-0000-0000-000000000000")
    assert await service.get_agency(tx=tx) == AGENCY
    with pytest.raises(NotFoundError) as raised:
        await service.get_agency(tx=FakeTransaction())
    assert raised.value.code is ErrorCode.NOT_FOUND


async def test_list_people_filters_by_role_and_pages_by_username() -> None:
    tx, _ = await bootstrapped()
    clerks, token = await service.list_people(
        tx=tx, role=Role.CLERK, requested_page_size=0, page_token=""
    )
    assert [p.username for p in clerks] == ["vanthu"] and token == ""

    seen: list[str] = []
    token = ""
    while True:
        page, token = await service.list_people(
            tx=tx, role=None, requested_page_size=2, page_token=token
        )
        seen.extend(p.username for p in page)
        if not token:
            break
    assert seen == ["chuyenvien", "lanhdao", "vanthu"]


async def test_a_page_token_from_another_filter_or_garbage_is_refused() -> None:
    tx, _ = await bootstrapped()
    _, token = await service.list_people(tx=tx, role=None, requested_page_size=1, page_token="")
    assert token
    for bad in (token, "not-a-token!", "eyJ4IjoxfQ"):
        with pytest.raises(InvalidArgumentError) as raised:
            await service.list_people(tx=tx, role=Role.CLERK, requested_page_size=1, page_token=bad)
        assert raised.value.reason == "INVALID_PAGE_TOKEN"
    with pytest.raises(InvalidArgumentError):
        await service.list_people(tx=tx, role=None, requested_page_size=-1, page_token="")
