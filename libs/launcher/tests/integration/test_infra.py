import io
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from minio import Minio
from minio.error import S3Error
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from vanban.launcher.infra import (
    InfraError,
    NatsServer,
    PostgresServer,
    SeaweedServer,
    free_port,
    free_port_block,
)
from vanban.launcher.infra.ports import LOOPBACK, is_port_free
from vanban.launcher.infra.process import ManagedProcess, group_members
from vanban.launcher.pytest_plugin import DatabaseFactory

IS_ROOT = os.geteuid() == 0


def assert_no_process_left(*pgids: int) -> None:
    """Nothing alive in these process groups, and soon not even a zombie.

    An orphaned postmaster is reaped by PID 1, which may take a moment (about 1 s here).
    """
    assert pgids
    for pgid in pgids:
        assert group_members(pgid) == [], f"process group {pgid} is still running"
    deadline = time.monotonic() + 10
    for pgid in pgids:
        while True:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, f"process group {pgid} still exists"
            time.sleep(0.05)


@pytest.fixture
def pg_base_dir() -> Iterator[Path]:
    """A directory the postgres user can reach (pytest's tmp_path is 0700 and owned by root)."""
    base = Path(tempfile.mkdtemp(prefix="vanban-pg-test-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def registry_db_url(make_database: DatabaseFactory) -> str:
    return make_database("registry", extensions=["unaccent", "pg_trgm"])


# PostgreSQL


async def test_database_from_factory_answers_through_asyncpg(registry_db_url: str) -> None:
    engine = create_async_engine(registry_db_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("select 1"))).scalar_one() == 1
            database = (await conn.execute(text("select current_database()"))).scalar_one()
            role = (await conn.execute(text("select current_user"))).scalar_one()
    finally:
        await engine.dispose()
    assert registry_db_url.endswith(f"/{database}")
    assert database.startswith("registry_")
    # The database's own role, not the superuser, as a service connects.
    assert role == database
    assert registry_db_url.startswith(f"postgresql+asyncpg://{role}:")


async def test_factory_gives_each_caller_its_own_database(make_database: DatabaseFactory) -> None:
    first, second = make_database("isolated"), make_database("isolated")
    assert first != second
    engine = create_async_engine(first)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("create table incoming_document (id int)"))
    finally:
        await engine.dispose()
    engine = create_async_engine(second)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(text("select to_regclass('incoming_document')"))
            assert found.scalar_one() is None
    finally:
        await engine.dispose()


async def test_unaccent_and_trigram_search_work(
    pg_server: PostgresServer, registry_db_url: str
) -> None:
    database = registry_db_url.rsplit("/", 1)[1]
    # Creating them again must be harmless.
    pg_server.create_extensions(database, ["unaccent", "pg_trgm"])
    conn = await asyncpg.connect(pg_server.libpq_dsn(database))
    try:
        assert await conn.fetchval("select unaccent('Công văn đến số 12')") == "Cong van den so 12"
        similarity = await conn.fetchval(
            "select similarity(unaccent('quyết định bổ nhiệm'), 'quyet dinh bo nhiem')"
        )
        assert similarity == pytest.approx(1.0)
        assert await conn.fetchval("select similarity('van ban den', 'phieu trinh')") < 0.2
    finally:
        await conn.close()


async def test_create_database_is_idempotent_and_drop_removes_it(
    pg_server: PostgresServer,
) -> None:
    name = "Sổ văn bản đến"  # a name that needs quoting
    pg_server.create_database(name)
    await pg_server.acreate_database(name)
    conn = await asyncpg.connect(pg_server.libpq_dsn())
    try:
        count = "select count(*) from pg_database where datname = $1"
        assert await conn.fetchval(count, name) == 1
        other = await asyncpg.connect(pg_server.libpq_dsn(name))
        try:
            # Dropping must succeed even while a session is connected to the database.
            pg_server.drop_database(name)
        finally:
            await other.close(timeout=1)
        assert await conn.fetchval(count, name) == 0
        pg_server.drop_database(name)
    finally:
        await conn.close()


async def test_postgres_data_survives_stop_and_start(pg_base_dir: Path) -> None:
    server = PostgresServer(pg_base_dir / "data")  # durable mode: fsync stays on
    server.start()
    try:
        server.create_database("registry")
        conn = await asyncpg.connect(server.libpq_dsn("registry"))
        await conn.execute("create table outgoing_document (number text)")
        await conn.execute("insert into outgoing_document values ('15/QĐ-UBND')")
        await conn.close()

        # Postgres children each run in a session of their own: check every one of them.
        pids = server.server_pids()
        assert len(pids) > 3
        assert server.stop() is False  # a fast shutdown was enough
        assert not server.is_running()
        assert_no_process_left(*pids)
        assert is_port_free(server.port)

        server.start()
        conn = await asyncpg.connect(server.libpq_dsn("registry"))
        assert await conn.fetchval("select number from outgoing_document") == "15/QĐ-UBND"
        await conn.close()
    finally:
        server.stop()
    if IS_ROOT:
        assert (pg_base_dir / "data").stat().st_uid != 0
    assert (
        "database system is ready to accept connections"
        in (pg_base_dir / "postgres.log").read_text()
    )


def test_start_leaves_no_stale_server(pg_base_dir: Path) -> None:
    data_dir = pg_base_dir / "data"
    earlier = PostgresServer(data_dir, fast=True)
    earlier.start()
    earlier_pids = earlier.server_pids()

    # A second runner on the same data directory (say, after the launcher crashed) replaces it.
    later = PostgresServer(data_dir, fast=True, password=earlier.password)
    later.start()
    try:
        assert later.is_running()
        assert not earlier.is_running()
        assert all(group_members(pid) == [] for pid in earlier_pids)
    finally:
        later.stop()

    # A pid file left by a dead server whose pid now belongs to a live process (ours).
    (data_dir / "postmaster.pid").write_text(f"{os.getpid()}\n{data_dir}\n0\n{later.port}\n")
    later.start()
    try:
        assert later.is_running()
        assert later.pid != os.getpid()
    finally:
        later.stop()


@pytest.mark.skipif(not IS_ROOT, reason="only root hands the data directory to postgres")
def test_unreachable_data_dir_is_reported_clearly(pg_base_dir: Path) -> None:
    private = pg_base_dir / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(InfraError, match="cannot write"):
        PostgresServer(private / "data", fast=True).start()


# NATS JetStream


async def test_jetstream_keeps_messages_and_dedup_across_restart(
    nats_server: NatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(name="DOCUMENT_EVENTS", subjects=["documents.>"])
    consumer = await js.pull_subscribe("documents.>", durable="archive")
    ack = await js.publish(
        "documents.registered", b'{"number": "12/CV"}', headers={"Nats-Msg-Id": "doc-12-registered"}
    )
    assert (ack.seq, ack.duplicate) == (1, None)
    await consumer.unsubscribe()
    await nc.close()

    port_before = nats_server.port
    await nats_server.arestart()
    assert nats_server.port == port_before

    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    try:
        assert (await js.stream_info("DOCUMENT_EVENTS")).state.messages == 1
        again = await js.publish(
            "documents.registered",
            b'{"number": "12/CV"}',
            headers={"Nats-Msg-Id": "doc-12-registered"},
        )
        assert again.duplicate is True
        assert (await js.stream_info("DOCUMENT_EVENTS")).state.messages == 1

        consumer = await js.pull_subscribe("documents.>", durable="archive")
        [msg] = await consumer.fetch(1, timeout=5)
        assert msg.data == b'{"number": "12/CV"}'
        assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == "doc-12-registered"
        await msg.ack_sync()
    finally:
        await nc.close()


async def test_nats_stop_leaves_no_process(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "data")
    await server.astart()
    pid = server.pid
    assert pid is not None
    assert server.address == f"nats://127.0.0.1:{server.port}"
    config = (tmp_path / "data" / "nats-server.conf").read_text()
    assert "max_memory_store: 256MB" in config
    assert "max_file_store: 10GB" in config
    assert await server.astop() is False  # exited on SIGTERM
    assert not server.is_running()
    assert_no_process_left(pid)
    assert is_port_free(server.port)


def test_nats_start_replaces_a_server_orphaned_by_a_crashed_owner(tmp_path: Path) -> None:
    orphaned = NatsServer(tmp_path / "data")
    orphaned.start()
    orphan_pid = orphaned.pid
    assert orphan_pid is not None
    # A new owner (say, the launcher run again after being killed) knows nothing of it.
    successor = NatsServer(tmp_path / "data")
    try:
        successor.start()
        assert group_members(orphan_pid) == []
        assert successor.is_running()
    finally:
        successor.stop()
        orphaned.stop()


def test_nats_start_failure_reports_the_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        server = NatsServer(tmp_path / "data", port=taken.getsockname()[1])
        with pytest.raises(InfraError) as raised:
            server.start()
    assert "address already in use" in str(raised.value).lower()
    assert not server.is_running()


# SeaweedFS S3


def test_s3_bucket_object_round_trip(s3_server: SeaweedServer) -> None:
    client = Minio(
        s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        secure=False,
    )
    client.make_bucket("incoming-documents")
    content = b"%PDF-1.7 cong van 12/CV"
    client.put_object(
        "incoming-documents",
        "2026/12-CV.pdf",
        io.BytesIO(content),
        len(content),
        content_type="application/pdf",
    )
    response = client.get_object("incoming-documents", "2026/12-CV.pdf")
    try:
        assert response.read() == content
    finally:
        response.close()
        response.release_conn()
    assert client.stat_object("incoming-documents", "2026/12-CV.pdf").content_type == (
        "application/pdf"
    )


def test_s3_refuses_wrong_credentials(s3_server: SeaweedServer) -> None:
    wrong_secret = Minio(
        s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key + "x",
        secure=False,
    )
    with pytest.raises(S3Error) as raised:
        wrong_secret.list_buckets()
    assert raised.value.code == "SignatureDoesNotMatch"

    unknown_key = Minio(
        s3_server.endpoint, access_key="intruder", secret_key=s3_server.secret_key, secure=False
    )
    with pytest.raises(S3Error):
        unknown_key.list_buckets()


def test_s3_keys_are_generated_per_server(tmp_path: Path) -> None:
    first, second = SeaweedServer(tmp_path / "a"), SeaweedServer(tmp_path / "b")
    assert len(first.secret_key) >= 32
    assert first.access_key != second.access_key
    assert first.secret_key != second.secret_key


def test_s3_data_survives_restart_and_stop_leaves_nothing(tmp_path: Path) -> None:
    server = SeaweedServer(tmp_path / "data")
    assert server.endpoint == f"127.0.0.1:{server.base_port + 7}"
    server.start()
    try:
        client = server.client()
        client.make_bucket("archive")
        client.put_object("archive", "ho-so/1.xml", io.BytesIO(b"<hoSo/>"), 7)
        pid = server.pid
        assert pid is not None
        assert server.stop() is False  # exited on SIGTERM
        assert not server.is_running()
        assert_no_process_left(pid)
        ports = range(server.base_port + 1, server.base_port + 15)
        assert all(is_port_free(port) for port in ports)
        assert not [
            path for port in ports for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock")
        ]

        server.start()
        response = server.client().get_object("archive", "ho-so/1.xml")
        try:
            assert response.read() == b"<hoSo/>"
        finally:
            response.close()
            response.release_conn()
    finally:
        server.stop()
    # The next run on this data directory comes back on the same ports.
    assert SeaweedServer(tmp_path / "data").base_port == server.base_port


# Processes


def _managed(tmp_path: Path, script: str) -> ManagedProcess:
    return ManagedProcess(
        [sys.executable, "-c", script],
        log_path=tmp_path / "child.log",
        pid_file=tmp_path / "child.pid",
    )


def _wait_for_log(process: ManagedProcess, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in process.log_tail():
        assert time.monotonic() < deadline, process.log_tail()
        time.sleep(0.05)


def test_stop_reports_a_process_that_exits_on_sigterm_as_not_killed(tmp_path: Path) -> None:
    process = _managed(
        tmp_path,
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n",
    )
    process.start()
    _wait_for_log(process, "ready")
    pid = process.pid
    assert pid is not None
    assert process.stop(grace=10) is False
    assert_no_process_left(pid)


def test_stop_reports_a_process_that_ignores_sigterm_as_killed(tmp_path: Path) -> None:
    process = _managed(
        tmp_path,
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n",
    )
    process.start()
    _wait_for_log(process, "ready")
    pid = process.pid
    assert pid is not None
    assert process.stop(grace=0.5) is True
    assert_no_process_left(pid)
    assert process.stop() is False  # nothing left to stop


# Ports


def test_free_port_block_is_free_and_consecutive() -> None:
    first = free_port_block(14)
    assert all(is_port_free(port) for port in range(first, first + 14))
    assert is_port_free(free_port())
