from __future__ import annotations

import asyncio
import os
import sys

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from vanban.directory.adapters.db.tables import people, platform_tables
from vanban.directory.adapters.password import Argon2PasswordHasher
from vanban.directory.bootstrap import run_bootstrap
from vanban.directory.domain.model import Agency
from vanban.launcher.pytest_plugin import DatabaseFactory


async def _snapshot(url: str) -> dict[str, object]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(people.c.username, people.c.password_hash, people.c.roles)
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
        return {"people": sorted(rows), "outbox": dict(outbox), "audit": audit}
    finally:
        await engine.dispose()


async def test_bootstrap_twice_changes_nothing(
    make_database: DatabaseFactory, agency: Agency, demo_password: str
) -> None:
    url = make_database("directory_bootstrap")
    first = await run_bootstrap(database_url=url, agency=agency, demo_password=demo_password)
    assert first.agency_created
    assert set(first.people_created) == {"vanthu", "lanhdao", "truongphong", "chuyenvien"}
    before = await _snapshot(url)
    assert before["outbox"] == {"vanban.directory.person.upserted": 4}

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
    assert [row[0] for row in snapshot["people"]] == [  # type: ignore[attr-defined]
        "chuyenvien",
        "lanhdao",
        "truongphong",
        "vanthu",
    ]
    assert snapshot["outbox"] == {"vanban.directory.person.upserted": 4}
    assert demo_password.encode() not in stderr
