"""The backing servers let nobody in without credentials, and each service only into its own.

Every local user of a machine can reach a loopback port, so a password-less server is open to
all of them. These tests log in as an outsider, as a service, and as another agency's service.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
import os
import shutil
import socket
import ssl
import stat
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import nats
import pytest
from google.protobuf.wrappers_pb2 import StringValue
from minio import Minio
from minio.error import S3Error
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from vanban.launcher.infra import InfraError, NatsServer, PostgresServer, SeaweedServer
from vanban.launcher.infra.files import SecretStore
from vanban.launcher.infra.nats import NatsUser, service_permissions
from vanban.launcher.infra.postgres import cluster_home, scram_verifier
from vanban.launcher.infra.process import ManagedProcess
from vanban.launcher.infra.seaweed import S3Identity
from vanban.launcher.platform import EVENT_CONSUMERS, SERVICES
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.platform.events.consumer import EventConsumer
from vanban.platform.events.durables import (
    ARCHIVE_INCOMING_REGISTERED,
    DURABLES,
    GATEWAY_PERSON_SESSIONS,
    NOTIFY_INCOMING_REGISTERED,
    durables_of,
)
from vanban.platform.events.nats import (
    connect,
    ensure_dlq_stream,
    ensure_service_stream,
    inbox_prefix,
    redact,
)

IS_ROOT = os.geteuid() == 0


def role_and_database(url: str) -> tuple[str, str, str]:
    """(role, password, database) of a DSN made by ``make_database``."""
    userinfo = url.split("://", 1)[1].split("@", 1)[0]
    role, password = userinfo.split(":", 1)
    return role, password, url.rsplit("/", 1)[1]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# PostgreSQL


async def test_postgres_refuses_a_connection_without_the_password(
    pg_server: PostgresServer,
) -> None:
    for password in (None, "", "wrong-password"):
        with pytest.raises(
            (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)
        ):
            await asyncpg.connect(
                host="127.0.0.1",
                port=pg_server.port,
                user="postgres",
                password=password,
                database="postgres",
            )
    # The launcher's own connection, with the generated password, still works.
    conn = await asyncpg.connect(pg_server.libpq_dsn())
    try:
        assert await conn.fetchval("select current_setting('password_encryption')") == (
            "scram-sha-256"
        )
    finally:
        await conn.close()


async def test_a_service_role_opens_only_its_own_database(
    pg_server: PostgresServer, make_database: DatabaseFactory
) -> None:
    documents_role, documents_password, documents_db = role_and_database(make_database("documents"))
    _, _, directory_db = role_and_database(make_database("directory"))

    own = await asyncpg.connect(
        pg_server.libpq_dsn(documents_db, role=documents_role, password=documents_password)
    )
    try:
        assert await own.fetchval("select current_user") == documents_role
        assert not await own.fetchval("select rolsuper from pg_roles where rolname = current_user")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await own.execute("create role intruder login")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await own.execute("create database intruder")
    finally:
        await own.close()
    # Neither another service's database nor the maintenance ones open to it.
    for database in (directory_db, "postgres", "template1"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await asyncpg.connect(
                pg_server.libpq_dsn(database, role=documents_role, password=documents_password)
            )


async def test_a_database_owner_creates_the_search_extensions_itself(
    pg_server: PostgresServer, make_database: DatabaseFactory
) -> None:
    role, password, database = role_and_database(make_database("search"))
    conn = await asyncpg.connect(pg_server.libpq_dsn(database, role=role, password=password))
    try:
        # Trusted extensions: a service's migration may create them without a superuser.
        await conn.execute("create extension if not exists unaccent")
        await conn.execute("create extension if not exists pg_trgm")
        assert await conn.fetchval("select unaccent('Quyết định')") == "Quyet dinh"
        assert await conn.fetchval("select similarity('15/QĐ-UBND', '15/QD-UBND')") > 0.3
    finally:
        await conn.close()


def test_the_verifier_sent_for_a_role_matches_its_password(pg_server: PostgresServer) -> None:
    verifier = scram_verifier("mật khẩu", salt=b"0123456789abcdef")
    assert verifier.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    assert "mật khẩu" not in verifier


@pytest.fixture
def pg_base_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="vanban-pg-cred-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_a_cluster_that_trusts_connections_is_refused(pg_base_dir: Path) -> None:
    server = PostgresServer(pg_base_dir / "data", fast=True)
    server.start()
    server.stop()
    hba = pg_base_dir / "data" / "pg_hba.conf"
    # What clusters made by earlier launchers had: anyone on the machine gets in.
    hba.write_text("host all all 127.0.0.1/32 trust\n" + hba.read_text())
    with pytest.raises(InfraError, match="without a password"):
        server.start()
    assert not server.is_running()


async def test_postgres_files_are_private(pg_base_dir: Path) -> None:
    server = PostgresServer(pg_base_dir / "data", fast=True)
    server.start()
    try:
        assert mode(pg_base_dir / "data") == 0o700
        assert mode(pg_base_dir / "postgres.log") == 0o600
    finally:
        server.stop()


@pytest.mark.skipif(not IS_ROOT, reason="only root hands its cluster to the postgres user")
async def test_as_root_a_cluster_under_a_private_directory_is_kept_outside_it(
    tmp_path: Path, pg_base_dir: Path
) -> None:
    # /root is 0700: the postgres user cannot get through it to a checkout's data directory.
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    external = pg_base_dir / "var-lib-vanban"
    home = private / "vanban" / ".vanban" / "infra" / "postgres"
    try:
        placed = cluster_home(home, external_root=external)
        assert placed.parent == external
        assert home.is_symlink() and home.readlink() == placed
        assert (placed / "origin").read_text().strip() == str(home)
        # The same data directory finds the same cluster again.
        assert cluster_home(home, external_root=external) == placed
        server = PostgresServer(placed / "data", fast=True)
        server.start()
        try:
            conn = await asyncpg.connect(server.libpq_dsn())
            assert await conn.fetchval("select 1") == 1
            await conn.close()
        finally:
            server.stop()
        assert mode(private) == 0o700  # nothing was opened up
    finally:
        shutil.rmtree(external, ignore_errors=True)


# NATS


async def _refused(url: str) -> str:
    with pytest.raises(nats.errors.Error) as raised:
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=3)
    return str(raised.value)


async def test_nats_refuses_anonymous_and_wrong_passwords(nats_server: NatsServer) -> None:
    assert "Authorization Violation" in await _refused(nats_server.address)
    wrong = f"nats://documents:not-the-password@127.0.0.1:{nats_server.port}"
    assert "Authorization Violation" in await _refused(wrong)
    nc = await nats.connect(nats_server.user_url("documents"))
    await nc.close()


class Violations:
    """Collects the permission errors the server reports asynchronously to a client."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def record(self, exc: Exception) -> None:
        self.seen.append(str(exc))

    async def wait_for(self, fragment: str, within: float = 5.0) -> None:
        for _ in range(int(within / 0.05)):
            # nats-py lowercases the server's message.
            if any(fragment.lower() in seen.lower() for seen in self.seen):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no violation {fragment!r}; seen: {self.seen}")


# Connects to NATS as a service's user; answers the client and the violations it meets.
OpenAs = Callable[[str], Awaitable[tuple[Client, "Violations"]]]


@pytest.fixture
async def as_service(nats_server: NatsServer) -> AsyncIterator[OpenAs]:
    clients: list[Client] = []

    async def open_as(service: str) -> tuple[Client, Violations]:
        violations = Violations()
        nc = await nats.connect(
            nats_server.user_url(service),
            inbox_prefix=inbox_prefix(service),
            error_cb=violations.record,
        )
        clients.append(nc)
        return nc, violations

    yield open_as
    for nc in clients:
        await nc.close()


async def test_a_service_publishes_its_own_events_and_no_one_elses(
    nats_server: NatsServer, as_service: OpenAs
) -> None:
    admin = await nats.connect(nats_server.url)
    try:
        await ensure_service_stream(admin.jetstream(), "directory")
        documents, violations = await as_service("documents")
        js = documents.jetstream()
        await ensure_service_stream(js, "documents")
        await ensure_dlq_stream(js)
        ack = await js.publish("vanban.documents.incoming.registered", b"12/CV")
        assert ack.stream == "VANBAN_DOCUMENTS"

        # A forged directory event: the server drops it and tells the client why.
        with pytest.raises(nats.errors.TimeoutError):
            await js.publish("vanban.directory.person.upserted", b"forged", timeout=1)
        await violations.wait_for('publish to "vanban.directory.person.upserted"')
        info = await admin.jetstream().stream_info("VANBAN_DIRECTORY")
        assert info.state.messages == 0
    finally:
        await admin.close()


async def test_a_service_cannot_listen_in_or_touch_streams_it_does_not_own(
    nats_server: NatsServer, as_service: OpenAs
) -> None:
    admin = await nats.connect(nats_server.url)
    try:
        for service in ("documents", "signing"):
            await ensure_service_stream(admin.jetstream(), service)
        archive, violations = await as_service("archive")
        # A refused request is dropped, so it ends in a timeout: keep that short.
        js = archive.jetstream(timeout=1)

        # Plain subscriptions to events (around JetStream) or to others' replies.
        await archive.subscribe("vanban.>")
        await violations.wait_for('subscription to "vanban.>"')
        await archive.subscribe("_INBOX.documents.>")
        await violations.wait_for('subscription to "_INBOX.documents.>"')

        # Another service's stream: no reconfiguring, purging or deleting it.
        config = StreamConfig(name="VANBAN_DOCUMENTS", subjects=["vanban.documents.>"], max_age=1)
        with pytest.raises(nats.errors.TimeoutError):
            await js.update_stream(config)
        await violations.wait_for("$js.api.stream.update.vanban_documents")
        with pytest.raises(nats.errors.TimeoutError):
            await js.delete_stream("VANBAN_DOCUMENTS")
        await violations.wait_for("$js.api.stream.delete.vanban_documents")

        # A stream it does not read (signing's) gets no consumer of its.
        with pytest.raises(nats.errors.TimeoutError):
            await js.add_consumer("VANBAN_SIGNING", ConsumerConfig(durable_name="archive-spy"))
        await violations.wait_for("vanban_signing.archive-spy")
    finally:
        await admin.close()


async def test_the_gateway_follows_new_notices_live_and_nothing_else(
    nats_server: NatsServer, as_service: OpenAs
) -> None:
    notify, _ = await as_service("notify")
    gateway, violations = await as_service("gateway")
    followed = await gateway.subscribe("vanban.notify.notification.recorded")
    await gateway.flush()
    await notify.publish("vanban.notify.notification.recorded", b"notice")
    message = await followed.next_msg(timeout=5)
    assert message.data == b"notice"
    # Not the rest of notify's events, nor anyone else's.
    await gateway.subscribe("vanban.notify.>")
    await violations.wait_for('subscription to "vanban.notify.>"')
    # ... and no other service follows the notices.
    archive, archive_violations = await as_service("archive")
    await archive.subscribe("vanban.notify.notification.recorded")
    await archive_violations.wait_for('subscription to "vanban.notify.notification.recorded"')


def test_consumer_rights_name_each_durable_of_the_service_and_no_other() -> None:
    names = [durable.name for durable in DURABLES]
    assert len(set(names)) == len(names)
    for durable in DURABLES:
        assert {durable.owner, durable.source} <= set(SERVICES)
    for service in SERVICES:
        own = EVENT_CONSUMERS[service]
        assert own == durables_of(service)
        allowed = service_permissions(service, durables=own)["publish"]["allow"]
        consumer_rights = [
            grant for grant in allowed if grant.startswith(("$JS.API.CONSUMER.", "$JS.ACK."))
        ]
        assert len(consumer_rights) == 6 * len(own)
        for grant in consumer_rights:
            assert "*" not in grant.split("."), grant
            assert any(f".{d.stream}.{d.name}" in grant for d in own), grant
        assert not [grant for grant in allowed if grant.startswith("$JS.API.STREAM.CREATE.")][2:]
    with pytest.raises(ValueError, match="archive's, not notify's"):
        service_permissions("notify", durables=durables_of("archive"))


async def test_a_consumer_reads_acks_and_dead_letters_with_its_own_user(
    nats_server: NatsServer, as_service: OpenAs
) -> None:
    # What EventConsumer does, step by step, as the archive's user with one of its durables.
    durable = ARCHIVE_INCOMING_REGISTERED
    documents, _ = await as_service("documents")
    await ensure_service_stream(documents.jetstream(), "documents")
    await documents.jetstream().publish(
        "vanban.documents.outgoing.issued", b"15/QD", headers={"Nats-Msg-Id": "ev-15"}
    )
    archive, violations = await as_service("archive")
    js = archive.jetstream()
    await js.stream_info(durable.stream)
    await ensure_dlq_stream(js)
    await js.add_consumer(
        durable.stream,
        ConsumerConfig(
            durable_name=durable.name,
            filter_subject="vanban.documents.outgoing.issued",
            ack_policy=AckPolicy.EXPLICIT,
        ),
    )
    # The newer form, with a name and a filter subject, is allowed too (an update here).
    await js.add_consumer(
        durable.stream,
        ConsumerConfig(
            name=durable.name,
            durable_name=durable.name,
            filter_subject="vanban.documents.outgoing.issued",
            ack_policy=AckPolicy.EXPLICIT,
        ),
    )
    sub = await js.pull_subscribe_bind(durable.name, stream=durable.stream)
    [msg] = await sub.fetch(1, timeout=5)
    assert msg.data == b"15/QD"
    await msg.ack_sync()
    info = await js.consumer_info(durable.stream, durable.name)
    assert info.num_ack_pending == 0 and info.delivered.stream_seq >= 1
    dead = await js.publish(f"vanban.dlq.{durable.name}", b"15/QD")
    assert dead.stream == "VANBAN_DLQ"
    assert violations.seen == []


async def test_a_service_cannot_use_make_or_change_another_services_consumer(
    nats_server: NatsServer, as_service: OpenAs
) -> None:
    """Notify reads the documents' stream too, yet archive's durable there is not its to touch,
    nor the gateway's on the directory's stream; nor may it make a stream for someone else."""
    admin = await nats.connect(nats_server.url)
    # The archive's on the documents' stream (which notify reads), the gateway's on the
    # directory's (which it does not); each with one message for it, the gateway's in hand.
    theirs = (ARCHIVE_INCOMING_REGISTERED, GATEWAY_PERSON_SESSIONS)
    held = GATEWAY_PERSON_SESSIONS
    try:
        ajs = admin.jetstream()
        for durable in theirs:
            await ensure_service_stream(ajs, durable.source)
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await ajs.delete_consumer(durable.stream, durable.name)
            subject = f"vanban.{durable.source}.spied.on"
            await ajs.add_consumer(
                durable.stream,
                ConsumerConfig(
                    durable_name=durable.name,
                    filter_subject=subject,
                    ack_policy=AckPolicy.EXPLICIT,
                    max_deliver=5,
                ),
            )
            await ajs.publish(subject, durable.name.encode())
        # Its ack subject names the gateway's durable.
        [in_hand] = await (await ajs.pull_subscribe_bind(held.name, stream=held.stream)).fetch(
            1, timeout=5
        )
        assert in_hand.reply.startswith(f"$JS.ACK.{held.stream}.{held.name}.")

        notify, violations = await as_service("notify")
        js = notify.jetstream(timeout=1)  # a refused request ends in a timeout

        for durable in theirs:
            # Fetch (drain) from it.
            sub = await js.pull_subscribe_bind(durable.name, stream=durable.stream)
            with pytest.raises(nats.errors.TimeoutError):
                await sub.fetch(1, timeout=1)
            await violations.wait_for(f"$js.api.consumer.msg.next.{durable.stream}.{durable.name}")
            # See it, create or reconfigure it (legacy and named forms).
            with pytest.raises(nats.errors.TimeoutError):
                await js.consumer_info(durable.stream, durable.name)
            await violations.wait_for(f"$js.api.consumer.info.{durable.stream}.{durable.name}")
            with pytest.raises(nats.errors.TimeoutError):
                await js.add_consumer(
                    durable.stream, ConsumerConfig(durable_name=durable.name, max_deliver=1)
                )
            await violations.wait_for(
                f"$js.api.consumer.durable.create.{durable.stream}.{durable.name}"
            )
            with pytest.raises(nats.errors.TimeoutError):
                await js.add_consumer(
                    durable.stream,
                    ConsumerConfig(
                        name=durable.name,
                        durable_name=durable.name,
                        filter_subject=f"vanban.{durable.source}.>",
                    ),
                )
            await violations.wait_for(f"$js.api.consumer.create.{durable.stream}.{durable.name}")

        # Ack (or nak, or term) the archive's message in its place.
        await notify.publish(in_hand.reply, b"+ACK")
        await notify.flush()
        await violations.wait_for(f'publish to "{in_hand.reply}"')
        # A durable of another name, or an ephemeral one, on a stream it reads.
        with pytest.raises(nats.errors.TimeoutError):
            await js.add_consumer("VANBAN_DOCUMENTS", ConsumerConfig(durable_name="notify-spy"))
        await violations.wait_for("$js.api.consumer.durable.create.vanban_documents.notify-spy")
        with pytest.raises(nats.errors.TimeoutError):
            await js.add_consumer("VANBAN_DOCUMENTS", ConsumerConfig())
        await violations.wait_for('publish to "$js.api.consumer.create.vanban_documents"')
        # Another service's stream: neither created (it could choose its configuration) nor
        # changed, even one whose events it reads.
        with pytest.raises(nats.errors.TimeoutError):
            await js.add_stream(
                StreamConfig(name="VANBAN_WORKFLOW", subjects=["vanban.workflow.>"])
            )
        await violations.wait_for("$js.api.stream.create.vanban_workflow")
        with pytest.raises(nats.errors.TimeoutError):
            await js.update_stream(
                StreamConfig(name="VANBAN_DOCUMENTS", subjects=["vanban.documents.>"], max_age=1)
            )
        await violations.wait_for("$js.api.stream.update.vanban_documents")

        # Nothing happened: the messages wait for their owners, the configurations are theirs.
        for durable in theirs:
            info = await ajs.consumer_info(durable.stream, durable.name)
            assert info.config.max_deliver == 5
            assert info.config.filter_subject == f"vanban.{durable.source}.spied.on"
            assert info.delivered.consumer_seq == (1 if durable == held else 0)
            assert (info.num_ack_pending, info.num_pending) == (
                (1, 0) if durable == held else (0, 1)
            )
        with pytest.raises(nats.js.errors.NotFoundError):
            await ajs.stream_info("VANBAN_WORKFLOW")
        assert (await ajs.stream_info("VANBAN_DOCUMENTS")).config.max_age != 1
        await in_hand.ack()
        for durable in theirs:
            await ajs.delete_consumer(durable.stream, durable.name)
    finally:
        await admin.close()


async def test_a_consumer_waits_for_its_producer_to_make_the_stream(tmp_path: Path) -> None:
    """As under `vanban up`, where every service starts at once: notify's consumer may not
    create the documents' stream, so it waits, and makes its durable once documents has."""
    durable = NOTIFY_INCOMING_REGISTERED
    users = [
        NatsUser(service, permissions=service_permissions(service, durables=durables_of(service)))
        for service in ("notify", "documents")
    ]
    async with NatsServer(tmp_path / "data", users=users) as server:
        violations = Violations()
        notify = await nats.connect(
            server.user_url("notify"),
            inbox_prefix=inbox_prefix("notify"),
            error_cb=violations.record,
        )
        consumer = EventConsumer(
            js=notify.jetstream(),
            source_service=durable.source,
            durable=durable.name,
            subject="vanban.documents.incoming.registered",
            message_type=StringValue,
            handler=_never_called,
            uow_factory=_no_database,
        )
        stop = asyncio.Event()
        setup = asyncio.ensure_future(consumer.setup(stop))
        admin = await nats.connect(server.url)
        try:
            await asyncio.sleep(1.5)
            assert not setup.done()
            with pytest.raises(nats.js.errors.NotFoundError):
                await admin.jetstream().stream_info(durable.stream)

            documents = await nats.connect(
                server.user_url("documents"), inbox_prefix=inbox_prefix("documents")
            )
            await ensure_service_stream(documents.jetstream(), "documents")
            await documents.close()
            assert await asyncio.wait_for(setup, timeout=15) is True
            info = await admin.jetstream().consumer_info(durable.stream, durable.name)
            assert info.config.filter_subject == "vanban.documents.incoming.registered"
            assert violations.seen == []

            # And a consumer told to stop while it waits (for a stream no one makes) returns.
            gone = EventConsumer(
                js=admin.jetstream(),
                source_service="workflow",
                durable=durable.name,
                subject="vanban.workflow.>",
                message_type=StringValue,
                handler=_never_called,
                uow_factory=_no_database,
            )
            waiting = asyncio.ensure_future(gone.run(stop))
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.wait_for(waiting, timeout=10)
        finally:
            setup.cancel()
            await admin.close()
            await notify.close()


async def _never_called(*_args: object) -> None:
    raise AssertionError("no message was expected")


def _no_database() -> Any:
    raise AssertionError("no database was expected")


async def test_the_platform_connect_hides_the_password_and_uses_the_service_inbox(
    nats_server: NatsServer,
) -> None:
    url = nats_server.user_url("notify")
    shown = redact(url)
    assert "notify@" in shown and url.split(":")[2].split("@")[0] not in shown
    nc = await connect(url, name="vanban-notify", inbox=inbox_prefix("notify"))
    try:
        # A request/reply round trip works only if replies come back on the allowed prefix.
        await ensure_service_stream(nc.jetstream(), "notify")
    finally:
        await nc.close()


# S3


def test_an_agencys_s3_keys_open_its_own_bucket_only(tmp_path: Path) -> None:
    a = S3Identity("agency-a", ("vanban-agency-a",))
    b = S3Identity("agency-b", ("vanban-agency-b",))
    with SeaweedServer(tmp_path / "data", identities=[a, b]) as server:
        for identity in (a, b):
            server.ensure_bucket(identity.buckets[0])
        server.client().put_object("vanban-agency-b", "objects/b", io.BytesIO(b"of B"), 4)
        mine = server.client("agency-a")
        version = mine.put_object("vanban-agency-a", "objects/a", io.BytesIO(b"of A"), 4)
        response = mine.get_object("vanban-agency-a", "objects/a")
        try:
            assert response.read() == b"of A"
        finally:
            response.close()
            response.release_conn()
        listed = mine.list_objects("vanban-agency-a", prefix="objects/", include_version=True)
        assert [item.object_name for item in listed] == ["objects/a"]
        mine.remove_object("vanban-agency-a", "objects/a", version_id=version.version_id)

        attempts = {
            "read": lambda: mine.get_object("vanban-agency-b", "objects/b"),
            "write": lambda: mine.put_object("vanban-agency-b", "x", io.BytesIO(b"x"), 1),
            "list": lambda: list(mine.list_objects("vanban-agency-b")),
            "delete": lambda: mine.remove_object("vanban-agency-b", "objects/b"),
            "create a bucket": lambda: mine.make_bucket("vanban-agency-c"),
        }
        for what, attempt in attempts.items():
            with pytest.raises(S3Error) as raised:
                attempt()
            assert raised.value.code == "AccessDenied", what
        assert [bucket.name for bucket in mine.list_buckets()] == ["vanban-agency-a"]
        assert mode(server.config_path) == 0o600


def test_s3_keys_in_the_environment_are_not_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # weed takes AWS_* from its environment as one more admin identity: it must not see them.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ambient-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ambient-secret-0123456789")
    with SeaweedServer(tmp_path / "data") as server:
        ambient = Minio(
            server.endpoint,
            access_key="ambient-key",
            secret_key="ambient-secret-0123456789",
            secure=False,
        )
        with pytest.raises(S3Error) as raised:
            ambient.list_buckets()
        assert raised.value.code == "InvalidAccessKeyId"
        server.client().list_buckets()


# weed's other ports: master, volume, filer and admin, in HTTP and gRPC

# What a local user would try on each HTTP port: read, list, hand out file ids, write, delete.
WEED_HTTP_PROBES = {
    "master.port": ("/dir/status", "/dir/assign", "/dir/lookup?volumeId=1", "/vol/grow", "/"),
    "volume.port": ("/status", "/1,0123456789", "/"),
    "filer.port": ("/buckets/", "/buckets/vanban-locked/objects/x", "/"),
    "admin.port": ("/metrics", "/health", "/"),
}
WEED_GRPC_PORTS = (
    "master.port.grpc",
    "volume.port.grpc",
    "filer.port.grpc",
    "s3.port.grpc",
    "admin.port.grpc",
)
# Any method: a call that gets through the transport is answered (UNIMPLEMENTED elsewhere).
MASTER_CONFIGURATION = "/master_pb.Seaweed/GetMasterConfiguration"


def _plain_http(port: int, method: str, path: str) -> tuple[int, bytes] | None:
    """Status and body of a request without TLS, token or key; None if not answered."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=b"x" if method in ("POST", "PUT") else None)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _https(port: int, path: str, ca: Path, client: tuple[Path, Path] | None) -> int | None:
    """Status of a GET over TLS (trusting weed's authority), with or without a client
    certificate; None when the server refuses the connection."""
    context = ssl.create_default_context(cafile=str(ca))
    if client is not None:
        context.load_cert_chain(*map(str, client))
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):  # ssl.SSLError is an OSError
        return None
    finally:
        connection.close()


def _grpc_code(target: str, credentials: grpc.ChannelCredentials | None) -> grpc.StatusCode:
    channel = (
        grpc.insecure_channel(target)
        if credentials is None
        else grpc.secure_channel(target, credentials)
    )
    with channel:
        call = channel.unary_unary(
            MASTER_CONFIGURATION,
            request_serializer=lambda raw: raw,
            response_deserializer=lambda raw: raw,
        )
        try:
            call(b"", timeout=5)
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def _listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_seaweedfs_lets_no_one_past_s3_without_its_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filer, master, volume and admin APIs read, write and delete every agency's files and
    take no S3 keys: they must not answer any local user. Only the S3 port does, to its keys."""
    # WEED_* variables override security.toml; weed must not see the caller's (an authority
    # that cannot be read turns gRPC's TLS off, a known key lets anyone sign filer tokens).
    monkeypatch.setenv("WEED_GRPC_CA", str(tmp_path / "no-such-ca.crt"))
    monkeypatch.setenv("WEED_JWT_FILER_SIGNING_KEY", "ambient-key")
    with SeaweedServer(tmp_path / "data") as server:
        server.ensure_bucket("vanban-locked")
        server.client().put_object("vanban-locked", "objects/x", io.BytesIO(b"secret"), 6)
        ports = server.internal_ports
        # weed mini starts its admin component after S3 is ready: wait for every listener.
        expected = {*ports.values(), server.s3_port}
        for _ in range(200):
            if weed_ports(server) >= expected:
                break
            time.sleep(0.05)
        assert weed_ports(server) == expected

        for flag, paths in WEED_HTTP_PROBES.items():
            for path in paths:
                for method in ("GET", "POST", "PUT", "DELETE"):
                    answer = _plain_http(ports[flag], method, path)
                    # Go's TLS server answers plain HTTP itself: weed never sees the request.
                    assert answer is None or (
                        answer[0] == 400 and b"HTTP request to an HTTPS server" in answer[1]
                    ), (flag, method, path, answer)
                # TLS without a client certificate: the handshake is refused.
                assert _https(ports[flag], path, server.tls_dir / "ca.crt", None) is None, (
                    flag,
                    path,
                )
        ca = (server.tls_dir / "ca.crt").read_bytes()
        for flag in WEED_GRPC_PORTS:
            target = f"127.0.0.1:{ports[flag]}"
            assert _grpc_code(target, None) == grpc.StatusCode.UNAVAILABLE, flag
            without_certificate = grpc.ssl_channel_credentials(root_certificates=ca)
            assert _grpc_code(target, without_certificate) == grpc.StatusCode.UNAVAILABLE, flag

        # weed's own unix sockets (in /tmp, named by weed) are its user's alone; the gRPC ones
        # ask for the certificate too, the filer's HTTP one for a token.
        sockets = [
            sock
            for port in ports.values()
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock")
        ]
        assert sockets
        for sock in sockets:
            assert mode(sock) & 0o077 == 0, sock
            if "-grpc-" in sock.name:
                assert _grpc_code(f"unix:{sock}", None) == grpc.StatusCode.UNAVAILABLE, sock
        with socket.socket(socket.AF_UNIX) as raw:
            raw.settimeout(5)
            raw.connect(f"/tmp/seaweedfs-filer-{ports['filer.port']}.sock")
            raw.sendall(b"GET /buckets/ HTTP/1.0\r\nHost: filer\r\n\r\n")
            assert raw.recv(64).startswith(b"HTTP/1.0 401")

        # Whoever holds the certificate (weed itself) gets through: the probes above were
        # refused for want of it, not because nothing was listening.
        client = (server.tls_dir / "tls.crt", server.tls_dir / "tls.key")
        assert _https(ports["master.port"], "/dir/status", server.tls_dir / "ca.crt", client) == 200
        # ... and even then the filer and volume servers want a signed token.
        for flag, path in (("filer.port", "/buckets/"), ("volume.port", "/1,0123456789")):
            assert _https(ports[flag], path, server.tls_dir / "ca.crt", client) == 401, flag
        certified = grpc.ssl_channel_credentials(
            root_certificates=ca,
            private_key=client[1].read_bytes(),
            certificate_chain=client[0].read_bytes(),
        )
        assert _grpc_code(f"127.0.0.1:{ports['master.port.grpc']}", certified) == (
            grpc.StatusCode.OK
        )

        # The S3 API: with its keys, as before; without, nothing.
        response = server.client().get_object("vanban-locked", "objects/x")
        try:
            assert response.read() == b"secret"
        finally:
            response.close()
            response.release_conn()
        anonymous = _plain_http(server.s3_port, "GET", "/vanban-locked/objects/x")
        assert anonymous is not None and anonymous[0] == 403

        assert mode(server.security_path) == 0o600
        assert mode(server.tls_dir) == 0o700
        assert {mode(path) for path in server.tls_dir.iterdir()} == {0o600}
        assert "[jwt.filer_signing.read]" in server.security_path.read_text()


def weed_ports(server: SeaweedServer) -> set[int]:
    assert server.pid is not None
    return _listening_ports(server.pid)


# Files


def test_logs_and_secrets_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "documents.log"
    log.parent.mkdir()
    log.write_text("an older log, made world-readable\n")
    log.chmod(0o644)
    process = ManagedProcess(["true"], log_path=log, pid_file=tmp_path / "true.pid")
    process.start()
    assert process.wait(10) == 0
    assert mode(log) == 0o600

    store = SecretStore(tmp_path / "secrets.json")
    first = store.get("postgres", "superuser")
    assert mode(tmp_path / "secrets.json") == 0o600
    assert SecretStore(tmp_path / "secrets.json").get("postgres", "superuser") == first
