"""`vanban up`'s credentials: one set per service and per agency, private, kept across restarts.

The backing servers are started and each agency's storage prepared as `vanban up` does; the
services themselves are not needed to show what their credentials open (the e2e suite runs
them with these credentials).
"""

from __future__ import annotations

import io
import json
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from minio import Minio
from minio.error import S3Error

from vanban.launcher.platform import AgencySpec, Platform

A, B = "000.00.00.H99", "000.00.00.H98"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vanban-credentials-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def make_platform(data_dir: Path) -> Platform:
    return Platform(data_dir, [AgencySpec(A), AgencySpec(B)], fast=True)


@pytest.fixture(scope="module")
def two(data_dir: Path) -> Iterator[Platform]:
    platform = make_platform(data_dir)
    try:
        platform.start_backing_servers()
        for agency in platform.agencies:
            agency.prepare_storage()
        platform.write_state()
        yield platform
    finally:
        platform.stop()


def s3_client(platform: Platform, env: dict[str, str]) -> Minio:
    return Minio(
        platform.seaweed.endpoint,
        access_key=env["VANBAN_ARCHIVE_S3_ACCESS_KEY"],
        secret_key=env["VANBAN_ARCHIVE_S3_SECRET_KEY"],
        secure=False,
    )


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_each_service_logs_in_to_its_own_database_only(two: Platform) -> None:
    a, b = two.agencies
    documents = libpq(a.env("documents")["VANBAN_DOCUMENTS_DATABASE_URL"])
    assert "postgres@" not in documents and "postgres:" not in documents
    conn = await asyncpg.connect(documents)
    try:
        assert await conn.fetchval("select current_user") == a.database_name("documents")
    finally:
        await conn.close()
    # Its own agency's directory database, and the other agency's documents database.
    for database in (a.database_name("directory"), b.database_name("documents")):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await asyncpg.connect(documents.rsplit("/", 1)[0] + "/" + database)


async def test_an_agencys_nats_users_do_not_open_the_other_agencys_server(
    two: Platform,
) -> None:
    a, b = two.agencies
    notify_a = a.env("notify")["VANBAN_NATS_URL"]
    assert notify_a.startswith("nats://notify:")
    nc = await nats.connect(notify_a)
    await nc.close()
    # Same user name, other agency's server: other password, refused.
    at_b = notify_a.replace(f":{a.nats.port}", f":{b.nats.port}")
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(at_b, allow_reconnect=False, max_reconnect_attempts=0)
    assert a.env("notify")["VANBAN_NATS_URL"] != a.env("documents")["VANBAN_NATS_URL"]


def test_an_agencys_archive_keys_do_not_open_the_other_agencys_bucket(two: Platform) -> None:
    a, b = two.agencies
    two.seaweed.client().put_object(b.bucket(), "objects/b", io.BytesIO(b"of B"), 4)
    keys_a = s3_client(two, a.env("archive"))
    keys_a.put_object(a.bucket(), "objects/a", io.BytesIO(b"of A"), 4)
    with pytest.raises(S3Error) as raised:
        keys_a.get_object(b.bucket(), "objects/b")
    assert raised.value.code == "AccessDenied"
    assert [bucket.name for bucket in keys_a.list_buckets()] == [a.bucket()]
    # Object lock was switched on by the launcher, since the archive's keys may not.
    assert two.seaweed.client().get_object_lock_config(a.bucket()) is not None


def test_state_secrets_and_logs_are_private(two: Platform, data_dir: Path) -> None:
    # 0711 as root (postgres must get through to its cluster), 0700 otherwise: never listable.
    assert mode(data_dir) in (0o700, 0o711)
    assert mode(data_dir / "secrets.json") == 0o600
    assert mode(two.state_path) == 0o600
    assert mode(two.state_path.parent) == 0o700
    assert mode(data_dir / "agencies") == 0o700
    for log in (
        two.agencies[0].nats.log_path,
        two.seaweed.log_path,
        two.postgres.log_path,
    ):
        assert mode(log) == 0o600, log
    for config in (two.agencies[0].nats.config_path, two.seaweed.config_path):
        assert mode(config) == 0o600, config
    # The superuser's password is the launcher's: no service is handed it.
    superuser = json.loads((data_dir / "secrets.json").read_text())["postgres"]["superuser"]
    for agency in two.agencies:
        for service in ("directory", "documents", "archive", "gateway"):
            assert superuser not in json.dumps(agency.env(service))


async def test_credentials_survive_a_restart() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="vanban-restart-"))
    first = Platform(data_dir, [AgencySpec(A)], fast=True)
    try:
        first.start_backing_servers()
        first.agencies[0].prepare_storage()
        before = {service: first.agencies[0].env(service) for service in ("documents", "archive")}
        s3_client(first, before["archive"]).put_object(
            first.agencies[0].bucket(), "objects/a", io.BytesIO(b"of A"), 4
        )
        notify_user = first.agencies[0].env("notify")["VANBAN_NATS_URL"].rsplit("@", 1)[0]
    finally:
        first.stop()
    again = Platform(data_dir, [AgencySpec(A)], fast=True)
    try:
        again.start_backing_servers()
        agency = again.agencies[0]
        agency.prepare_storage()
        # Ports are chosen afresh; users, passwords and keys are the same.
        database = "VANBAN_DOCUMENTS_DATABASE_URL"
        assert (
            agency.env("documents")[database].split("@")[0]
            == (before["documents"][database].split("@")[0])
        )
        for key in ("VANBAN_ARCHIVE_S3_ACCESS_KEY", "VANBAN_ARCHIVE_S3_SECRET_KEY"):
            assert agency.env("archive")[key] == before["archive"][key]
        url = agency.env("notify")["VANBAN_NATS_URL"]
        assert url.rsplit("@", 1)[0] == notify_user
        nc = await nats.connect(url)
        await nc.close()
        conn = await asyncpg.connect(
            libpq(agency.env("documents")["VANBAN_DOCUMENTS_DATABASE_URL"])
        )
        await conn.close()
        stored = s3_client(again, agency.env("archive")).get_object(agency.bucket(), "objects/a")
        try:
            assert stored.read() == b"of A"
        finally:
            stored.close()
            stored.release_conn()
    finally:
        again.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
