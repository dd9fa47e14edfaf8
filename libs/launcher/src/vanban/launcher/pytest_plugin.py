"""pytest fixtures that run the real backing servers (registered as the ``vanban`` plugin).

They are locked down as ``vanban up`` locks its servers down, so a test that needs access
nobody has in production fails here too:

- ``pg_server``: one PostgreSQL per test session, durability off for speed, password
  authentication only (``pg_server.dsn()`` is the superuser's URL, with its password).
- ``make_database``: a factory giving each caller a fresh database on ``pg_server``, owned by
  a role of its own with its own password (the URL it returns); no other role may connect to
  it. It is session-scoped so module- and function-scoped fixtures can both use it.
- ``nats_server``: a fresh NATS JetStream per test module, so streams never leak across
  modules. No anonymous access: ``nats_server.url`` carries the admin user (no limits);
  ``nats_server.user_url("<svc>")`` is a service's user, with the permissions it has under
  ``vanban up``.
- ``s3_server``: one SeaweedFS S3 server per test session, with generated admin keys.
"""

import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import pytest

from vanban.launcher.infra import NatsServer, PostgresServer, SeaweedServer
from vanban.launcher.infra.files import new_password
from vanban.launcher.infra.nats import NatsUser, service_permissions
from vanban.launcher.platform import EVENT_CONSUMERS, SERVICES


class DatabaseFactory(Protocol):
    def __call__(self, prefix: str = "test", *, extensions: Sequence[str] = ()) -> str:
        """Create a uniquely named database and return its SQLAlchemy asyncpg URL.

        The URL logs in as the database's own role (same name as the database), as a service
        does; ``extensions`` are created by the superuser beforehand.
        """
        ...


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    # Not under tmp_path_factory: pytest's base directory is 0700 and, as root, the server runs
    # as the postgres user, which must be able to reach its data directory.
    base = Path(tempfile.mkdtemp(prefix="vanban-pg-"))
    base.chmod(0o755)
    server = PostgresServer(base / "data", fast=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def make_database(pg_server: PostgresServer) -> DatabaseFactory:
    def make(prefix: str = "test", *, extensions: Sequence[str] = ()) -> str:
        slug = re.sub(r"[^a-z0-9_]+", "_", prefix.lower()).strip("_")[:40] or "test"
        name = f"{slug}_{secrets.token_hex(4)}"
        pg_server.create_database(name, owner=name, password=(password := new_password()))
        if extensions:
            pg_server.create_extensions(name, extensions)
        return pg_server.dsn(name, role=name, password=password)

    return make


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    users = [
        NatsUser(
            service, permissions=service_permissions(service, durables=EVENT_CONSUMERS[service])
        )
        for service in SERVICES
    ]
    with NatsServer(tmp_path_factory.mktemp("nats") / "data", users=users) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    with SeaweedServer(tmp_path_factory.mktemp("seaweedfs") / "data") as server:
        yield server
