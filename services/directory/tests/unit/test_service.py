from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from vanban.directory.domain import service
from vanban.directory.domain.model import Agency, Clearance, Person, PersonDraft, Role
from vanban.directory.domain.ports import Credentials
from vanban.platform.errors import (
    ErrorCode,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    UnauthenticatedError,
)


class FakeHasher:
    """Reversible "hashing" that records which hashes were checked."""

    def __init__(self, *, outdated_prefix: str = "old:") -> None:
        self._dummy = f"h:{secrets.token_hex(8)}"
        self._outdated = outdated_prefix
        self.verified: list[str] = []

    @property
    def dummy_hash(self) -> str:
        return self._dummy

    async def hash(self, password: str) -> str:
        return f"h:{password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return password_hash in (f"h:{password}", f"{self._outdated}{password}")

    def needs_rehash(self, password_hash: str) -> bool:
        return password_hash.startswith(self._outdated)


class FakeAgencies:
    def __init__(self) -> None:
        self.value: Agency | None = None

    async def get(self) -> Agency | None:
        return self.value

    async def add(self, agency: Agency) -> None:
        assert self.value is None
        self.value = agency


class FakePeople:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[Person, str]] = {}

    async def add_if_absent(self, person: Person, *, password_hash: str) -> bool:
        if any(p.username == person.username for p, _ in self.rows.values()):
            return False
        self.rows[person.id] = (person, password_hash)
        return True

    async def get(self, person_id: str) -> Person | None:
        row = self.rows.get(person_id)
        return row[0] if row else None

    async def get_by_username(self, username: str) -> Person | None:
        found = await self.credentials(username)
        return found.person if found else None

    async def credentials(self, username: str) -> Credentials | None:
        for person, password_hash in self.rows.values():
            if person.username == username:
                return Credentials(person=person, password_hash=password_hash)
        return None

    async def set_password_hash(self, person_id: str, password_hash: str) -> None:
        person, _ = self.rows[person_id]
        self.rows[person_id] = (person, password_hash)

    async def list_active(
        self, *, role: Role | None, after_username: str | None, limit: int
    ) -> list[Person]:
        people = sorted(
            (p for p, _ in self.rows.values() if p.active and (role is None or role in p.roles)),
            key=lambda p: p.username,
        )
        if after_username is not None:
            people = [p for p in people if p.username > after_username]
        return people[:limit]

    def deactivate(self, username: str) -> None:
        for person_id, (person, password_hash) in self.rows.items():
            if person.username == username:
                self.rows[person_id] = (replace(person, active=False), password_hash)


@dataclass
class FakeTransaction:
    agency: FakeAgencies = field(default_factory=FakeAgencies)
    people: FakePeople = field(default_factory=FakePeople)
    events: list[Person] = field(default_factory=list)
    audits: list[dict[str, object]] = field(default_factory=list)
    commits: int = 0
    _pending_events: list[Person] = field(default_factory=list)
    _pending_audits: list[dict[str, object]] = field(default_factory=list)

    def record_person_upserted(self, person: Person) -> None:
        self._pending_events.append(person)

    def audit(
        self,
        *,
        action: str,
        resource: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> None:
        self._pending_audits.append(
            {"action": action, "resource": resource, "before": before, "after": after}
        )

    async def commit(self) -> None:
        self.commits += 1
        self.events.extend(self._pending_events)
        self.audits.extend(self._pending_audits)
        self._pending_events.clear()
        self._pending_audits.clear()


NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
AGENCY = Agency(code="000.00.00.H99", name="Ủy ban nhân dân tỉnh Demo", abbreviation="UBND")
PASSWORD = "mat-khau-ban-dau"


def make_draft(**overrides: object) -> PersonDraft:
    fields: dict[str, object] = {
        "username": "vanthu",
        "full_name": "Nguyễn Thị Văn Thư",
        "position_title": "Văn thư",
        "roles": (Role.CLERK,),
        "unit_codes": ("VP",),
        "clearance": Clearance.CONFIDENTIAL,
    }
    fields.update(overrides)
    return PersonDraft(**fields)  # type: ignore[arg-type]


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


async def bootstrapped() -> tuple[FakeTransaction, FakeHasher]:
    tx, hasher = FakeTransaction(), FakeHasher()
    await service.bootstrap(
        tx=tx, hasher=hasher, agency=AGENCY, people=PEOPLE, password=PASSWORD, now=NOW
    )
    return tx, hasher


async def test_bootstrap_creates_agency_and_people_with_one_event_each() -> None:
    tx, hasher = FakeTransaction(), FakeHasher()
    report = await service.bootstrap(
        tx=tx, hasher=hasher, agency=AGENCY, people=PEOPLE, password=PASSWORD, now=NOW
    )
    assert report.agency_created
    assert report.people_created == ("vanthu", "lanhdao", "chuyenvien")
    assert tx.agency.value == AGENCY
    assert sorted(p.username for p in tx.events) == ["chuyenvien", "lanhdao", "vanthu"]
    assert {a["action"] for a in tx.audits} == {"agency.create", "person.create"}
    # No audit entry carries the password or its hash.
    assert PASSWORD not in repr(tx.audits) and "h:" not in repr(tx.audits)


async def test_bootstrap_again_changes_nothing_and_keeps_a_changed_password() -> None:
    tx, hasher = await bootstrapped()
    vanthu = await tx.people.get_by_username("vanthu")
    assert vanthu is not None
    await tx.people.set_password_hash(vanthu.id, "h:mat-khau-moi-cua-toi")
    events, audits = len(tx.events), len(tx.audits)

    report = await service.bootstrap(
        tx=tx, hasher=hasher, agency=AGENCY, people=PEOPLE, password=PASSWORD, now=NOW
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
