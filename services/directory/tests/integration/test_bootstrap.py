from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from vanban.directory.adapters.db.tables import people, platform_tables, units
from vanban.directory.adapters.password import Argon2PasswordHasher
from vanban.directory.bootstrap import add_arguments, bootstrap_command, run_bootstrap
from vanban.directory.domain.model import Agency
from vanban.launcher.pytest_plugin import DatabaseFactory

BOOTSTRAP_PARSER = argparse.ArgumentParser()
add_arguments(BOOTSTRAP_PARSER)


def administrator_args(agency: Agency, url: str) -> argparse.Namespace:
    """`bootstrap --administrator quantri --password-stdin` for `agency` on `url`."""
    return BOOTSTRAP_PARSER.parse_args(
        [
            "--agency-code", agency.code,
            "--agency-name", agency.name,
            "--abbreviation", agency.abbreviation,
            "--database-url", url,
            "--administrator", "quantri",
            "--password-stdin",
        ]
    )  # fmt: skip


async def _snapshot(url: str) -> dict[str, Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(people.c.username, people.c.password_hash, people.c.roles)
                )
            ).all()
            tree = (
                await connection.execute(
                    select(units.c.code, units.c.parent_code, people.c.username)
                    .outerjoin(people, people.c.id == units.c.head_person_id)
                    .order_by(units.c.code)
                )
            ).all()
            outbox = (
                await connection.execute(
                    select(platform_tables.outbox.c.subject, func.count()).group_by(
                        platform_tables.outbox.c.subject
                    )
                )
            ).all()
            audit = (
                await connection.execute(select(func.count()).select_from(platform_tables.audit))
            ).scalar_one()
        return {
            "people": sorted(rows),
            "units": [tuple(row) for row in tree],
            "outbox": dict(outbox),
            "audit": audit,
        }
    finally:
        await engine.dispose()


async def test_bootstrap_twice_changes_nothing(
    make_database: DatabaseFactory, agency: Agency, demo_password: str
) -> None:
    url = make_database("directory_bootstrap")
    first = await run_bootstrap(database_url=url, agency=agency, demo_password=demo_password)
    assert first.agency_created
    assert set(first.people_created) == {
        "vanthu",
        "lanhdao",
        "truongphong",
        "chuyenvien",
        "luutru",
        "quantri",
    }
    assert first.units_created == ("VP", "PTH")
    before = await _snapshot(url)
    assert before["outbox"] == {
        "vanban.directory.person.upserted": 6,
        "vanban.directory.unit.upserted": 2,
    }
    # Văn phòng, headed by truongphong, with Phòng Tổng hợp inside it.
    assert before["units"] == [("PTH", "VP", None), ("VP", None, "truongphong")]

    second = await run_bootstrap(database_url=url, agency=agency, demo_password=demo_password)

    assert not second.agency_created and second.people_created == ()
    assert await _snapshot(url) == before


async def test_bootstrap_never_resets_a_changed_password(
    make_database: DatabaseFactory, agency: Agency, demo_password: str
) -> None:
    url = make_database("directory_password")
    await run_bootstrap(database_url=url, agency=agency, demo_password=demo_password)
    hasher = Argon2PasswordHasher()
    changed = await hasher.hash("mat-khau-rieng-cua-toi")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(people).where(people.c.username == "vanthu").values(password_hash=changed)
            )
        await run_bootstrap(database_url=url, agency=agency, demo_password=demo_password)
        async with engine.connect() as connection:
            stored = (
                await connection.execute(
                    select(people.c.password_hash).where(people.c.username == "vanthu")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert stored == changed


async def test_the_bootstrap_command_runs_twice_from_the_command_line(
    make_database: DatabaseFactory, agency: Agency, demo_password: str
) -> None:
    url = make_database("directory_cli")
    command = [
        sys.executable,
        "-m",
        "vanban.directory",
        "bootstrap",
        "--agency-code",
        agency.code,
        "--agency-name",
        agency.name,
        "--abbreviation",
        agency.abbreviation,
        "--demo-password",
        demo_password,
    ]
    env = {**os.environ, "VANBAN_DIRECTORY_DATABASE_URL": url}
    env.pop("VANBAN_AGENCY_CODE", None)
    for _ in range(2):
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
    snapshot = await _snapshot(url)
    assert [row[0] for row in snapshot["people"]] == [
        "chuyenvien",
        "lanhdao",
        "luutru",
        "quantri",
        "truongphong",
        "vanthu",
    ]
    assert snapshot["outbox"] == {
        "vanban.directory.person.upserted": 6,
        "vanban.directory.unit.upserted": 2,
    }
    assert demo_password.encode() not in stderr


async def test_a_directory_from_before_units_gets_its_tree_on_the_next_bootstrap(
    make_database: DatabaseFactory, agency: Agency, demo_password: str
) -> None:
    url = make_database("directory_upgrade")
    await run_bootstrap(database_url=url, agency=agency, demo_password=demo_password)
    engine = create_async_engine(url)
    try:
        # What a directory bootstrapped before the units tree existed looks like.
        async with engine.begin() as connection:
            await connection.execute(units.delete().where(units.c.parent_code.is_not(None)))
            await connection.execute(units.delete())
        report = await run_bootstrap(database_url=url, agency=agency, demo_password=demo_password)
    finally:
        await engine.dispose()
    assert report.units_created == ("VP", "PTH") and report.people_created == ()
    assert (await _snapshot(url))["units"] == [("PTH", "VP", None), ("VP", None, "truongphong")]


def test_a_real_agency_gets_its_first_administrator_alone(
    make_database: DatabaseFactory, agency: Agency, monkeypatch: Any
) -> None:
    """`bootstrap --administrator quantri --password-stdin`: the agency and one administrator,
    no demo units or people, the password from standard input and to be changed at the first
    sign-in; the same again changes nothing."""
    url = make_database("directory_first_admin")
    args = administrator_args(agency, url)
    monkeypatch.delenv("VANBAN_DIRECTORY_DEMO_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("Mật-khẩu-ban-đầu-2026\n"))
    assert bootstrap_command(args) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("Mật-khẩu-ban-đầu-2026\n"))
    assert bootstrap_command(args) == 0

    async def read() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(
                        people.c.username,
                        people.c.roles,
                        people.c.password_must_change,
                        people.c.password_hash,
                    )
                )
                unit_count = (
                    await connection.execute(select(func.count()).select_from(units))
                ).scalar_one()
                return [rows.all(), unit_count]
        finally:
            await engine.dispose()

    (found, unit_count) = asyncio.run(read())
    assert unit_count == 0
    assert [(row.username, row.password_must_change) for row in found] == [("quantri", True)]
    assert "admin" in str(found[0].roles).lower()
    assert asyncio.run(
        Argon2PasswordHasher().verify(found[0].password_hash, "Mật-khẩu-ban-đầu-2026")
    )


def test_the_administrator_takes_no_password_from_the_command_line(agency: Agency) -> None:
    args = BOOTSTRAP_PARSER.parse_args(
        [
            "--agency-code", agency.code,
            "--agency-name", agency.name,
            "--abbreviation", agency.abbreviation,
            "--administrator", "quantri",
            "--demo-password", "typed-where-ps-shows-it",
        ]
    )  # fmt: skip
    with pytest.raises(SystemExit, match="password-stdin"):
        bootstrap_command(args)


def test_the_first_administrators_password_keeps_the_password_rules(
    make_database: DatabaseFactory, agency: Agency, monkeypatch: Any
) -> None:
    url = make_database("directory_first_admin_short")
    args = administrator_args(agency, url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("abc\n"))
    with pytest.raises(SystemExit, match="bootstrap refused"):
        bootstrap_command(args)
