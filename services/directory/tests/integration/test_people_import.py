"""Bulk import of people through gRPC against real PostgreSQL and NATS."""

from __future__ import annotations

import csv
import io
import json

import grpc
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from services.directory.tests.integration.support import call, failure, published
from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.contracts.directory.v1 import events_pb2
from vanban.directory.adapters.db.tables import people, platform_tables
from vanban.launcher.infra import NatsServer
from vanban.platform.testing import TokenMint

PEOPLE = 2000
COLUMNS = ["username", "full_name", "position_title", "unit_codes", "roles"]
COLUMNS += ["clearance", "email", "password"]
# Where the five bad lines go (0-based positions among the people) and what is wrong there.
BAD = {
    17: ("unit_codes", "VP;KHONGCO"),
    480: ("roles", "specialist;boss"),
    999: ("username", "canbo0003"),  # the same username as an earlier line
    1500: ("full_name", ""),
    1998: ("clearance", "secretish"),
}
WITH_PASSWORD = {5: "mat-khau-can-bo-5", 1234: "mat-khau-can-bo-1234"}


def person_row(index: int) -> dict[str, str]:
    return {
        "username": f"canbo{index:04d}",
        "full_name": f"Nguyễn Văn Cán Bộ {index}",
        "position_title": "Chuyên viên" if index % 10 else "Phó trưởng phòng",
        "unit_codes": ("VP", "PTH", "VP;PTH")[index % 3],
        "roles": "specialist" if index % 10 else "specialist;deputy_unit_head",
        "clearance": ("none", "confidential", "secret", "")[index % 4],
        "email": f"canbo{index:04d}@demo.gov.vn" if index % 2 else "",
        "password": WITH_PASSWORD.get(index, ""),
    }


def people_csv(*, broken: bool) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for index in range(PEOPLE):
        row = person_row(index)
        if broken and index in BAD:
            field, value = BAD[index]
            row[field] = value
        writer.writerow(row)
    return out.getvalue().encode()


async def counts(database_url: str) -> tuple[int, int]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            persons = (await connection.execute(select(func.count()).select_from(people))).scalar()
            imports = (
                await connection.execute(
                    select(func.count())
                    .select_from(platform_tables.audit)
                    .where(platform_tables.audit.c.action == "people.import")
                )
            ).scalar()
    finally:
        await engine.dispose()
    return int(persons or 0), int(imports or 0)


async def test_a_2000_person_csv_with_5_bad_lines_imports_nothing_then_all_once_fixed(
    directory: str, directory_database: str, mint: TokenMint, nats_server: NatsServer
) -> None:
    admin = mint.person("admin-1", roles=("admin",))
    before = await counts(directory_database)
    broken = people_csv(broken=True)
    # Line 1 is the header, so the person at position i is on line i + 2.
    expected = sorted((index + 2, field) for index, (field, _) in BAD.items())

    for dry_run in (True, False):
        report = await call(
            directory,
            "ImportPeople",
            pb.ImportPeopleRequest(format=pb.IMPORT_FORMAT_CSV, content=broken, dry_run=dry_run),
            admin,
        )
        assert [(p.line, p.field) for p in report.problems] == expected
        assert (report.rows, report.imported, report.dry_run) == (PEOPLE, 0, dry_run)
        assert await counts(directory_database) == before
    duplicate = next(p for p in report.problems if p.field == "username")
    assert duplicate.message == "canbo0003 also appears on line 5"

    report = await call(
        directory,
        "ImportPeople",
        pb.ImportPeopleRequest(format=pb.IMPORT_FORMAT_CSV, content=people_csv(broken=False)),
        admin,
    )
    assert list(report.problems) == []
    assert (report.rows, report.imported) == (PEOPLE, PEOPLE)
    assert await counts(directory_database) == (before[0] + PEOPLE, before[1] + 1)

    gateway = mint.service("gateway")
    signed_in = await call(
        directory,
        "Authenticate",
        pb.AuthenticateRequest(username="canbo1234", password=WITH_PASSWORD[1234]),
        gateway,
    )
    assert list(signed_in.person.unit_codes) == ["PTH"]
    assert not signed_in.person.password_must_change
    random = await call(
        directory, "FindPerson", pb.FindPersonRequest(username="canbo0009"), gateway
    )
    assert random.person.password_must_change
    assert random.person.email == "canbo0009@demo.gov.vn"
    assert random.person.clearance == pb.CLEARANCE_CONFIDENTIAL

    # A second run is all duplicates of existing people.
    again = await call(
        directory,
        "ImportPeople",
        pb.ImportPeopleRequest(
            format=pb.IMPORT_FORMAT_CSV, content=people_csv(broken=False), dry_run=True
        ),
        admin,
    )
    assert len(again.problems) >= PEOPLE and again.imported == 0

    messages = await published(
        nats_server.url, "vanban.directory.person.upserted", at_least=before[0] + PEOPLE
    )
    usernames = {events_pb2.PersonUpserted.FromString(m.data).person.username for m in messages}
    assert {f"canbo{i:04d}" for i in range(PEOPLE)} <= usernames


async def test_a_json_import_and_who_may_import(directory: str, mint: TokenMint) -> None:
    content = json.dumps(
        [
            {"username": "json1", "full_name": "Người JSON", "roles": ["clerk"], "unit_codes": []},
            {"username": "json2", "full_name": "", "roles": "clerk", "clearance": "mật"},
        ]
    ).encode()
    report = await call(
        directory,
        "ImportPeople",
        pb.ImportPeopleRequest(format=pb.IMPORT_FORMAT_JSON, content=content, dry_run=True),
        mint.person("admin-1", roles=("admin",)),
    )
    assert [(p.line, p.field) for p in report.problems] == [(2, "full_name")]
    denied = await failure(
        directory,
        "ImportPeople",
        pb.ImportPeopleRequest(format=pb.IMPORT_FORMAT_JSON, content=content, dry_run=True),
        mint.person("clerk-1", roles=("clerk", "agency_leader")),
    )
    assert denied.code() is grpc.StatusCode.PERMISSION_DENIED
