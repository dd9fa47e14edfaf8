"""The running platform uses the backing servers as its services' own users, not as superuser."""

from __future__ import annotations

import stat
from pathlib import Path

import asyncpg

from tests.e2e.support import Gateway
from vanban.launcher.platform import DATABASE_SERVICES, Platform


async def test_every_service_is_connected_to_its_database_as_its_own_role(
    platform: Platform, gateway: Gateway, clerk_token: str
) -> None:
    agency = platform.agencies[0]
    # Some work, so that the services hold pooled connections.
    assert gateway.register(clerk_token).status_code == 201
    conn = await asyncpg.connect(platform.postgres.libpq_dsn())
    try:
        sessions = await conn.fetch(
            "select usename, datname from pg_stat_activity"
            " where backend_type = 'client backend' and pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    databases = {agency.database_name(service) for service in DATABASE_SERVICES}
    seen = {(row["usename"], row["datname"]) for row in sessions if row["datname"] in databases}
    assert seen, sessions
    assert all(role == database for role, database in seen), seen
    assert {database for _, database in seen} >= {
        agency.database_name("directory"),
        agency.database_name("documents"),
    }


def test_the_data_directory_keeps_its_secrets_state_and_logs_private(platform: Platform) -> None:
    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(platform.data_dir) & 0o066 == 0
    assert mode(platform.data_dir / "secrets.json") == 0o600
    assert mode(platform.state_path) == 0o600
    logs = sorted((platform.agencies[0].root / "logs").glob("*.log"))
    assert len(logs) >= 8
    assert {log.name: mode(log) for log in logs} == {log.name: 0o600 for log in logs}
