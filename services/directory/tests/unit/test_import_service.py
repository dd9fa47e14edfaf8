from __future__ import annotations

import pytest

from services.directory.tests.unit.fakes import (
    ADMIN,
    AGENCY,
    NOW,
    FakeHasher,
    FakeTransaction,
    make_person,
    person_caller,
    transactions_of,
)
from vanban.directory.domain import import_service
from vanban.directory.domain.events import PersonUpserted
from vanban.directory.domain.import_service import ImportReport
from vanban.directory.domain.people_import import MAX_IMPORT_BYTES, ImportFormat
from vanban.directory.domain.ports import PasswordHasher
from vanban.directory.domain.unit import Unit
from vanban.platform.errors import InvalidArgumentError, PermissionDeniedError

HEADER = "username,full_name,position_title,unit_codes,roles,clearance,email,password"


def directory() -> FakeTransaction:
    tx = FakeTransaction()
    tx.agency.value = AGENCY
    tx.units.rows["VP"] = Unit(code="VP", name="Văn phòng")
    tx.people.put(make_person(username="vanthu", email="vanthu@demo.vn"))
    return tx


async def run(
    tx: FakeTransaction,
    content: str,
    *,
    dry_run: bool = False,
    hasher: PasswordHasher | None = None,
) -> ImportReport:
    return await import_service.import_people(
        transactions=transactions_of(tx),
        caller=ADMIN,
        hasher=hasher or FakeHasher(),
        file_format=ImportFormat.CSV,
        content=content.encode(),
        dry_run=dry_run,
        now=NOW,
    )


GOOD = "\n".join(
    (
        HEADER,
        "nguyenvana,Nguyễn Văn A,Chuyên viên,VP,specialist,none,a@demo.vn,mat-khau-rieng",
        "tranthib,Trần Thị B,Chuyên viên,VP,specialist,confidential,,",
    )
)


async def test_a_good_file_creates_everyone_with_one_event_and_audit_entry_each() -> None:
    tx, hasher = directory(), FakeHasher()
    report = await run(tx, GOOD, hasher=hasher)
    assert (report.rows, report.imported, report.problems, report.dry_run) == (2, 2, (), False)
    a = await tx.people.get_by_username("nguyenvana")
    b = await tx.people.get_by_username("tranthib")
    assert a is not None and b is not None
    assert tx.people.password_hash(a.id) == "h:mat-khau-rieng" and not a.password_must_change
    # No password in the file: a random one nobody knows, to be replaced.
    assert tx.people.password_hash(b.id).startswith("h:random:") and b.password_must_change
    assert hasher.hashed == 1
    assert [e.person.username for e in tx.events if isinstance(e, PersonUpserted)] == [
        "nguyenvana",
        "tranthib",
    ]
    assert [a["action"] for a in tx.audits] == ["person.create", "person.create", "people.import"]
    assert "mat-khau-rieng" not in repr(tx.audits) and "h:" not in repr(tx.audits)
    assert tx.commits == 1 and tx.units.locks == ["shared"]


async def test_a_dry_run_checks_everything_and_writes_nothing() -> None:
    tx = directory()
    report = await run(tx, GOOD, dry_run=True)
    assert (report.rows, report.imported, report.problems, report.dry_run) == (2, 0, (), True)
    assert len(tx.people.rows) == 1 and tx.commits == 0 and tx.events == []


async def test_one_bad_line_keeps_every_line_out_and_every_problem_is_reported() -> None:
    tx, hasher = directory(), FakeHasher()
    content = "\n".join(
        (
            HEADER,
            "nguyenvana,Nguyễn Văn A,,VP,specialist,,,",
            "vanthu,Trùng tên,,VP,clerk,,,",  # exists already
            "moi,Mới,,KT,clerk,,VANTHU@demo.vn,",  # unknown unit, e-mail taken
            "tranthib,Trần Thị B,,VP,specialist,,,",
        )
    )
    for dry_run in (True, False):
        report = await run(tx, content, dry_run=dry_run, hasher=hasher)
        assert [(p.line, p.field) for p in report.problems] == [
            (3, "username"),
            (4, "unit_codes"),
            (4, "email"),
        ]
        assert report.imported == 0 and report.rows == 4
    assert len(tx.people.rows) == 1 and tx.commits == 0 and hasher.hashed == 0


async def test_only_admins_import_and_files_over_5_mib_are_refused() -> None:
    tx = directory()
    with pytest.raises(PermissionDeniedError):
        await import_service.import_people(
            transactions=transactions_of(tx),
            caller=person_caller("p", "clerk"),
            hasher=FakeHasher(),
            file_format=ImportFormat.CSV,
            content=GOOD.encode(),
            dry_run=True,
            now=NOW,
        )
    with pytest.raises(InvalidArgumentError) as raised:
        await run(tx, GOOD + "\n" + " " * MAX_IMPORT_BYTES, dry_run=True)
    assert raised.value.reason == "IMPORT_TOO_LARGE"
