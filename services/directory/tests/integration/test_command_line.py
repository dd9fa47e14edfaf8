"""`python -m vanban.directory` as the launcher and the images run it: the platform's commands
and the directory's own `bootstrap` (run twice in test_bootstrap.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.platform.testing import DEMO_AGENCY


async def directory(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vanban.directory",
        *args,
        env=env or {"PATH": os.environ["PATH"]},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_help_needs_no_settings_and_names_every_command() -> None:
    code, out = await directory("--help")
    assert code == 0, out
    for line in ("serve", "migrate", "bootstrap"):
        assert line in out

    code, out = await directory("bootstrap", "--help")
    assert code == 0, out
    assert "--agency-code" in out and "--demo-password" in out


async def test_an_unknown_command_is_refused() -> None:
    code, out = await directory("bootstrapp")
    assert code == 2
    assert "invalid choice" in out


async def test_migrate_brings_a_new_database_up_to_date(
    make_database: DatabaseFactory, tmp_path: Path
) -> None:
    url = make_database("directory_migrate")
    env = {
        "PATH": os.environ["PATH"],
        "VANBAN_AGENCY_CODE": DEMO_AGENCY,
        "VANBAN_KEYS_DIR": str(tmp_path),
        "VANBAN_DIRECTORY_DATABASE_URL": url,
    }

    code, out = await directory("migrate", env=env)

    assert code == 0, out
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    assert {"people", "units", "delegations", "audit_log", "alembic_version"} <= set(tables)
