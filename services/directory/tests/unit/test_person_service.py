from __future__ import annotations

import pytest

from services.directory.tests.unit.fakes import (
    ADMIN,
    AGENCY,
    NOW,
    PASSWORD,
    SERVICE,
    FakeHasher,
    FakeTransaction,
    make_draft,
    make_person,
    person_caller,
)
from vanban.directory.domain import person_service as people
from vanban.directory.domain.events import PersonDeactivated, PersonUpserted
from vanban.directory.domain.model import PersonChanges, Role
from vanban.directory.domain.unit import Unit
from vanban.platform.clearance import Clearance
from vanban.platform.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)


def organisation() -> FakeTransaction:
    tx = FakeTransaction()
    tx.agency.value = AGENCY
    for unit in (Unit(code="VP", name="Văn phòng"), Unit(code="PTH", name="Phòng Tổng hợp")):
        tx.units.rows[unit.code] = unit
    return tx


async def create(tx: FakeTransaction, **overrides: object):
    return await people.create_person(
        tx=tx,
        caller=ADMIN,
        hasher=FakeHasher(),
        draft=make_draft(**overrides),
        password=PASSWORD,
        must_change=False,
        now=NOW,
    )


async def test_an_admin_creates_a_person_with_a_hashed_password_and_an_event() -> None:
    tx = organisation()
    person = await people.create_person(
        tx=tx,
        caller=ADMIN,
        hasher=FakeHasher(),
        draft=make_draft(email=" VanThu@Demo.gov.vn ", external_subject="oidc|123"),
        password=PASSWORD,
        must_change=True,
        now=NOW,
    )
    assert person.email == "vanthu@demo.gov.vn" and person.external_subject == "oidc|123"
    assert person.active and person.password_must_change
    assert tx.people.password_hash(person.id) == f"h:{PASSWORD}"
    assert tx.events == [PersonUpserted(person=person, occurred_at=NOW)]
    assert tx.audits[0]["action"] == "person.create"
    assert PASSWORD not in repr(tx.audits) and "h:" not in repr(tx.audits)
    assert tx.units.locks == ["shared"]


async def test_creating_a_person_is_for_admins_and_services_only() -> None:
    tx = organisation()
    for caller in (person_caller("p1", "clerk"), person_caller("p2", "agency_leader")):
        with pytest.raises(PermissionDeniedError):
            await people.create_person(
                tx=tx,
                caller=caller,
                hasher=FakeHasher(),
                draft=make_draft(),
                password=PASSWORD,
                must_change=False,
                now=NOW,
            )
    assert tx.people.rows == {}
    await people.create_person(
        tx=tx,
        caller=SERVICE,
        hasher=FakeHasher(),
        draft=make_draft(),
        password=PASSWORD,
        must_change=False,
        now=NOW,
    )


async def test_memberships_must_name_existing_units() -> None:
    tx = organisation()
    with pytest.raises(InvalidArgumentError) as raised:
        await create(tx, unit_codes=("VP", "KHONGCO", "NUA"))
    assert raised.value.reason == "UNKNOWN_UNIT"
    assert raised.value.violations[0].field == "unit_codes"
    assert "KHONGCO, NUA" in raised.value.violations[0].description


async def test_a_short_password_or_bad_fields_are_refused_before_anything_is_written() -> None:
    tx = organisation()
    with pytest.raises(InvalidArgumentError) as raised:
        await people.create_person(
            tx=tx,
            caller=ADMIN,
            hasher=FakeHasher(),
            draft=make_draft(),
            password="ngan",
            must_change=False,
            now=NOW,
        )
    assert raised.value.reason == "INVALID_PASSWORD"
    with pytest.raises(InvalidArgumentError) as raised:
        await create(tx, email="khong-phai-email", full_name="\x00", external_subject="x" * 256)
    assert {v.field for v in raised.value.violations} == {
        "email",
        "full_name",
        "external_subject",
    }
    assert tx.people.rows == {} and tx.commits == 0


async def test_username_email_and_external_subject_are_each_unique() -> None:
    tx = organisation()
    await create(tx, email="a@demo.vn", external_subject="sub-1")
    with pytest.raises(AlreadyExistsError) as raised:
        await create(tx, username="VanThu", email="A@demo.vn", external_subject="sub-1")
    assert {v.field for v in raised.value.violations} == {
        "username",
        "email",
        "external_subject",
    }
    assert raised.value.reason == "PERSON_EXISTS"


async def test_an_update_changes_only_what_it_names_and_is_audited() -> None:
    tx = organisation()
    person = await create(tx)
    updated = await people.update_person(
        tx=tx,
        caller=ADMIN,
        person_id=person.id,
        changes=PersonChanges(
            position_title="Văn thư chính", unit_codes=("VP", "PTH"), clearance=Clearance.SECRET
        ),
        now=NOW,
    )
    assert updated.position_title == "Văn thư chính"
    assert updated.unit_codes == ("VP", "PTH") and updated.clearance is Clearance.SECRET
    assert updated.full_name == person.full_name and updated.roles == person.roles
    assert tx.events[-1] == PersonUpserted(person=updated, occurred_at=NOW)
    audit = tx.audits[-1]
    assert audit["action"] == "person.update"
    assert audit["before"]["unit_codes"] == ["VP"]
    assert audit["after"]["unit_codes"] == ["VP", "PTH"]
    commits = tx.commits
    same = await people.update_person(
        tx=tx, caller=ADMIN, person_id=person.id, changes=PersonChanges(), now=NOW
    )
    assert same == updated and tx.commits == commits


async def test_an_update_refuses_unknown_units_taken_identifiers_and_missing_people() -> None:
    tx = organisation()
    first = await create(tx, email="a@demo.vn")
    second = await create(tx, username="chuyenvien", unit_codes=())
    with pytest.raises(InvalidArgumentError):
        await people.update_person(
            tx=tx,
            caller=ADMIN,
            person_id=second.id,
            changes=PersonChanges(unit_codes=("KT",)),
            now=NOW,
        )
    with pytest.raises(AlreadyExistsError):
        await people.update_person(
            tx=tx,
            caller=ADMIN,
            person_id=second.id,
            changes=PersonChanges(email="A@demo.vn"),
            now=NOW,
        )
    # Keeping one's own e-mail is no conflict.
    await people.update_person(
        tx=tx, caller=ADMIN, person_id=first.id, changes=PersonChanges(email="a@demo.vn"), now=NOW
    )
    with pytest.raises(NotFoundError):
        await people.update_person(
            tx=tx, caller=ADMIN, person_id="khong-co", changes=PersonChanges(), now=NOW
        )


async def test_deactivation_publishes_both_events_and_is_idempotent() -> None:
    tx = organisation()
    person = await create(tx)
    inactive = await people.deactivate_person(tx=tx, caller=ADMIN, person_id=person.id, now=NOW)
    assert not inactive.active
    assert tx.events[-2:] == [
        PersonUpserted(person=inactive, occurred_at=NOW),
        PersonDeactivated(person=inactive, occurred_at=NOW),
    ]
    assert tx.audits[-1]["action"] == "person.deactivate"
    events = len(tx.events)
    await people.deactivate_person(tx=tx, caller=ADMIN, person_id=person.id, now=NOW)
    assert len(tx.events) == events
    back = await people.update_person(
        tx=tx, caller=ADMIN, person_id=person.id, changes=PersonChanges(active=True), now=NOW
    )
    assert back.active and not isinstance(tx.events[-1], PersonDeactivated)


async def test_the_last_active_admin_is_kept() -> None:
    tx = organisation()
    admin = await create(tx, username="quantri", roles=(Role.ADMIN,))
    with pytest.raises(FailedPreconditionError) as raised:
        await people.deactivate_person(tx=tx, caller=ADMIN, person_id=admin.id, now=NOW)
    assert raised.value.reason == "LAST_ADMIN"
    with pytest.raises(FailedPreconditionError):
        await people.update_person(
            tx=tx,
            caller=ADMIN,
            person_id=admin.id,
            changes=PersonChanges(roles=(Role.CLERK,)),
            now=NOW,
        )
    await create(tx, username="quantri2", roles=(Role.ADMIN,))
    await people.deactivate_person(tx=tx, caller=ADMIN, person_id=admin.id, now=NOW)


async def test_an_admin_sets_a_password_that_must_be_changed() -> None:
    tx = organisation()
    person = await create(tx)
    updated = await people.set_password(
        tx=tx,
        caller=ADMIN,
        hasher=FakeHasher(),
        person_id=person.id,
        password="tam-thoi-123",
        must_change=True,
        now=NOW,
    )
    assert updated.password_must_change
    assert tx.people.password_hash(person.id) == "h:tam-thoi-123"
    # The old password's sessions end: the version their tokens carry is now stale.
    assert updated.session_version == person.session_version + 1
    assert tx.events[-1] == PersonUpserted(person=updated, occurred_at=NOW)
    assert tx.audits[-1] == {
        "action": "person.password.set",
        "resource": f"people/{person.id}",
        "before": None,
        "after": {"password_must_change": True},
        "on_behalf_of": None,
    }
    with pytest.raises(InvalidArgumentError):
        await people.set_password(
            tx=tx,
            caller=ADMIN,
            hasher=FakeHasher(),
            person_id=person.id,
            password="ngan",
            must_change=False,
            now=NOW,
        )
    with pytest.raises(PermissionDeniedError):
        await people.set_password(
            tx=tx,
            caller=person_caller(person.id, "clerk"),
            hasher=FakeHasher(),
            person_id=person.id,
            password="tu-dat-mat-khau",
            must_change=False,
            now=NOW,
        )


async def test_find_person_by_one_identifier_for_services_only() -> None:
    tx = organisation()
    person = tx.people.put(
        make_person(username="lanhdao", email="ld@demo.vn", external_subject="oidc|9", active=False)
    )
    assert await people.find_person(tx=tx, caller=SERVICE, username=" LanhDao ") == person
    assert await people.find_person(tx=tx, caller=SERVICE, email="LD@demo.vn") == person
    assert await people.find_person(tx=tx, caller=SERVICE, external_subject="oidc|9") == person
    with pytest.raises(NotFoundError):
        await people.find_person(tx=tx, caller=SERVICE, external_subject="oidc|10")
    with pytest.raises(InvalidArgumentError):
        await people.find_person(tx=tx, caller=SERVICE, username="a", email="b@c.d")
    with pytest.raises(InvalidArgumentError):
        await people.find_person(tx=tx, caller=SERVICE)
    with pytest.raises(PermissionDeniedError):
        await people.find_person(tx=tx, caller=ADMIN, username="lanhdao")


@pytest.mark.parametrize(
    ("changes", "ends"),
    [
        (PersonChanges(roles=(Role.CLERK, Role.ARCHIVIST)), True),
        (PersonChanges(unit_codes=("VP", "PTH")), True),
        (PersonChanges(clearance=Clearance.SECRET), True),
        (PersonChanges(active=False), True),
        (PersonChanges(email="moi@demo.vn"), True),
        (PersonChanges(external_subject="oidc|moi"), True),
        (PersonChanges(full_name="Nguyễn Thị Thư"), False),
        (PersonChanges(position_title="Văn thư chính"), False),
        (PersonChanges(unit_codes=("VP",)), False),
    ],
)
async def test_a_change_of_what_a_sign_in_grants_ends_the_persons_sessions(
    changes: PersonChanges, ends: bool
) -> None:
    tx = organisation()
    person = await create(tx)
    updated = await people.update_person(
        tx=tx, caller=ADMIN, person_id=person.id, changes=changes, now=NOW
    )
    assert updated.session_version == person.session_version + (1 if ends else 0)
    stored = await tx.people.get(person.id)
    assert stored is not None and stored.session_version == updated.session_version


async def test_a_person_changes_their_own_password_and_every_session_ends() -> None:
    tx = organisation()
    person = await create(tx)
    await people.set_password(
        tx=tx,
        caller=ADMIN,
        hasher=FakeHasher(),
        person_id=person.id,
        password="tam-thoi-123",
        must_change=True,
        now=NOW,
    )
    before = await tx.people.get(person.id)
    assert before is not None
    changed = await people.change_own_password(
        tx=tx,
        caller=person_caller(person.id, "clerk"),
        hasher=FakeHasher(),
        current_password="tam-thoi-123",
        new_password="mat-khau-rieng-2026",
        now=NOW,
    )
    assert not changed.password_must_change
    assert changed.session_version == before.session_version + 1
    assert tx.people.password_hash(person.id) == "h:mat-khau-rieng-2026"
    assert tx.events[-1] == PersonUpserted(person=changed, occurred_at=NOW)
    assert tx.audits[-1]["action"] == "person.password.change"
    assert "mat-khau" not in repr(tx.audits)


@pytest.mark.parametrize(
    ("current", "new", "reason"),
    [
        ("sai-mat-khau", "mat-khau-moi-2026", "WRONG_CURRENT_PASSWORD"),
        ("", "mat-khau-moi-2026", "WRONG_CURRENT_PASSWORD"),
        ("x" * 2000, "mat-khau-moi-2026", "WRONG_CURRENT_PASSWORD"),
        (PASSWORD, "ngan", "INVALID_PASSWORD"),
        (PASSWORD, PASSWORD, "PASSWORD_UNCHANGED"),
    ],
)
async def test_a_password_change_is_refused_without_the_current_password_or_a_good_new_one(
    current: str, new: str, reason: str
) -> None:
    tx = organisation()
    person = await create(tx)
    with pytest.raises(InvalidArgumentError) as raised:
        await people.change_own_password(
            tx=tx,
            caller=person_caller(person.id, "clerk"),
            hasher=FakeHasher(),
            current_password=current,
            new_password=new,
            now=NOW,
        )
    assert raised.value.reason == reason
    assert tx.people.password_hash(person.id) == f"h:{PASSWORD}"
    stored = await tx.people.get(person.id)
    assert stored is not None and stored.session_version == person.session_version


async def test_services_and_unknown_or_inactive_people_cannot_change_a_password() -> None:
    tx = organisation()
    person = await create(tx)
    with pytest.raises(PermissionDeniedError):
        await people.change_own_password(
            tx=tx,
            caller=SERVICE,
            hasher=FakeHasher(),
            current_password=PASSWORD,
            new_password="mat-khau-moi-2026",
            now=NOW,
        )
    await people.deactivate_person(tx=tx, caller=ADMIN, person_id=person.id, now=NOW)
    for subject in (person.id, "khong-co"):
        with pytest.raises(NotFoundError):
            await people.change_own_password(
                tx=tx,
                caller=person_caller(subject, "clerk"),
                hasher=FakeHasher(),
                current_password=PASSWORD,
                new_password="mat-khau-moi-2026",
                now=NOW,
            )
