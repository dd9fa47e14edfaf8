"""The archive service in-process against real PostgreSQL, NATS JetStream and SeaweedFS S3."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest
from minio import Minio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from vanban.archive.app import build
from vanban.archive.settings import ArchiveSettings
from vanban.contracts.archive.v1 import archive_pb2 as pb
from vanban.contracts.archive.v1 import archive_pb2_grpc, events_pb2
from vanban.contracts.directory.v1 import directory_pb2
from vanban.contracts.directory.v1.events_pb2 import AgencyUpdated, PersonUpserted
from vanban.contracts.documents.v1 import documents_pb2
from vanban.contracts.documents.v1.events_pb2 import IncomingDocumentRegistered
from vanban.platform.errors import ErrorCode
from vanban.platform.events.nats import ensure_service_stream
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import DEMO_AGENCY, TokenMint, channel, metadata, running

MIB = 1024 * 1024
CHUNK = 256 * 1024


@dataclass
class Archive:
    address: str
    settings: ArchiveSettings
    stub: archive_pb2_grpc.ArchiveServiceAsyncStub
    # A clerk uploads; reads are for platform services only (the gateway after documents agreed).
    token: str
    reader_token: str
    s3: Minio
    db: AsyncEngine

    @property
    def bucket(self) -> str:
        return self.settings.bucket

    @property
    def spool(self) -> Path:
        assert self.settings.spool_dir is not None
        return self.settings.spool_dir

    async def put(
        self,
        data: bytes,
        *,
        content_type: str = "application/pdf",
        declared_size: int = 0,
        chunk: int = CHUNK,
    ) -> pb.PutObjectResponse:
        return await self.stub.PutObject(
            upload(data, content_type=content_type, declared_size=declared_size, chunk=chunk),
            metadata=metadata(self.token),
        )

    async def get(self, sha256: str) -> tuple[pb.ObjectInfo, bytes]:
        info: pb.ObjectInfo | None = None
        body = bytearray()
        async for response in self.stub.GetObject(
            pb.GetObjectRequest(sha256=sha256), metadata=metadata(self.reader_token)
        ):
            if response.WhichOneof("part") == "info":
                assert info is None, "info comes once, first"
                info = response.info
            else:
                assert info is not None, "info comes before any chunk"
                assert 0 < len(response.chunk) <= CHUNK
                body += response.chunk
        assert info is not None
        return info, bytes(body)

    async def rows(self) -> dict[str, dict[str, Any]]:
        async with self.db.connect() as conn:
            result = await conn.execute(text("SELECT * FROM objects"))
            return {row.sha256: dict(row._mapping) for row in result}

    async def audit_actions(self, resource: str) -> list[str]:
        async with self.db.connect() as conn:
            result = await conn.execute(
                text("SELECT action FROM audit_log WHERE resource = :r ORDER BY id"),
                {"r": resource},
            )
            return list(result.scalars())

    def versions(self) -> list[tuple[str, str | None]]:
        return [
            (item.object_name or "", item.version_id)
            for item in self.s3.list_objects(
                self.bucket, prefix="objects/", recursive=True, include_version=True
            )
        ]


def upload(
    data: bytes, *, content_type: str, declared_size: int = 0, chunk: int = CHUNK
) -> Iterator[pb.PutObjectRequest]:
    yield pb.PutObjectRequest(
        header=pb.ObjectHeader(
            content_type=content_type, file_name="van-ban.pdf", declared_size=declared_size
        )
    )
    for start in range(0, len(data), chunk):
        yield pb.PutObjectRequest(chunk=data[start : start + chunk])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 15.0, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
def s3(s3_server: Any) -> Minio:
    return Minio(
        s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        secure=False,
    )


@pytest.fixture
def make_settings(
    tmp_path: Path, make_database: Any, s3_server: Any, nats_server: Any
) -> Callable[..., ArchiveSettings]:
    TokenMint(tmp_path / "keys")  # the service loads the keys when it is built

    def make(**overrides: Any) -> ArchiveSettings:
        values: dict[str, Any] = {
            "agency_code": DEMO_AGENCY,
            "keys_dir": tmp_path / "keys",
            "database_url": make_database("archive"),
            "nats_url": nats_server.url,
            "s3_endpoint": s3_server.endpoint,
            "s3_access_key": s3_server.access_key,
            "s3_secret_key": s3_server.secret_key,
            # A bucket per test: nothing one test stores is seen by another.
            "bucket": f"vanban-test-{secrets.token_hex(6)}",
            "spool_dir": tmp_path / "spool",
            "shutdown_grace": 2.0,
        }
        values.update(overrides)
        return ArchiveSettings(**values)

    return make


@contextlib.asynccontextmanager
async def started(settings: ArchiveSettings, s3: Minio) -> AsyncIterator[Archive]:
    mint = TokenMint(settings.keys_dir, settings.agency_code)
    db = create_async_engine(settings.database_url)
    try:
        async with running(build(settings)) as address, channel(address) as ch:
            yield Archive(
                address=address,
                settings=settings,
                stub=archive_pb2_grpc.ArchiveServiceStub(ch),
                token=mint.person("van-thu-1", roles=("clerk",)),
                reader_token=mint.service("gateway"),
                s3=s3,
                db=db,
            )
    finally:
        await db.dispose()


@pytest.fixture
async def archive(
    make_settings: Callable[..., ArchiveSettings], s3: Minio
) -> AsyncIterator[Archive]:
    async with started(make_settings(), s3) as service:
        yield service


async def test_a_3_mb_file_round_trips_byte_exact_under_its_sha256(archive: Archive) -> None:
    data = os.urandom(3 * MIB + 123)
    stored = await archive.put(data, declared_size=len(data))
    assert stored.created
    assert stored.object.sha256 == sha(data)
    assert stored.object.size == len(data)
    assert stored.object.content_type == "application/pdf"

    info, body = await archive.get(sha(data))
    assert body == data
    assert info == stored.object
    stat = await archive.stub.StatObject(
        pb.StatObjectRequest(sha256=sha(data)), metadata=metadata(archive.reader_token)
    )
    assert stat.object == stored.object

    s3_stat = archive.s3.stat_object(archive.bucket, f"objects/{sha(data)}")
    assert s3_stat.size == len(data)
    assert s3_stat.content_type == "application/pdf"
    assert s3_stat.metadata is not None
    assert s3_stat.metadata["x-amz-meta-sha256"] == sha(data)
    assert await archive.audit_actions(f"objects/{sha(data)}") == ["object.store"]
    assert list(archive.spool.iterdir()) == []


async def test_storing_announces_object_stored_on_nats(archive: Archive, nats_server: Any) -> None:
    data = os.urandom(1000)
    await archive.put(data)
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.jetstream().pull_subscribe(
            "vanban.archive.object.stored", stream="VANBAN_ARCHIVE"
        )
        deadline = asyncio.get_running_loop().time() + 15
        while asyncio.get_running_loop().time() < deadline:
            with contextlib.suppress(nats.errors.TimeoutError):
                for msg in await sub.fetch(10, timeout=1):
                    await msg.ack()
                    event = events_pb2.ObjectStored.FromString(msg.data)
                    if event.object.sha256 == sha(data):
                        assert event.object.size == 1000
                        assert msg.headers and msg.headers.get("Nats-Msg-Id")
                        return
        pytest.fail("no ObjectStored event for the stored object")
    finally:
        await nc.close()


async def test_the_same_content_twice_is_stored_once(archive: Archive) -> None:
    data = os.urandom(700 * 1024)
    first = await archive.put(data, content_type="application/pdf")
    second = await archive.put(data, content_type="image/png", chunk=100_000)
    assert first.created and not second.created
    assert second.object == first.object  # the first record stands, content type included
    assert archive.versions() == [(f"objects/{sha(data)}", archive.versions()[0][1])]
    assert list(await archive.rows()) == [sha(data)]


async def test_content_over_the_limit_is_refused_and_leaves_nothing(
    make_settings: Callable[..., ArchiveSettings], s3: Minio
) -> None:
    async with started(make_settings(max_object_bytes=MIB), s3) as archive:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await archive.put(os.urandom(MIB + 1))
        error = remote_error(caught.value)
        assert error.code is ErrorCode.RESOURCE_EXHAUSTED
        assert error.reason == "OBJECT_TOO_LARGE"

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await archive.put(b"small", declared_size=MIB + 1)
        assert remote_error(caught.value).reason == "OBJECT_TOO_LARGE"

        exactly = os.urandom(MIB)
        assert (await archive.put(exactly)).created
        assert list(await archive.rows()) == [sha(exactly)]
        assert [name for name, _ in archive.versions()] == [f"objects/{sha(exactly)}"]
        assert list(archive.spool.iterdir()) == []


async def test_a_cancelled_upload_leaves_nothing(archive: Archive) -> None:
    never = asyncio.Event()

    async def requests() -> AsyncIterator[pb.PutObjectRequest]:
        yield pb.PutObjectRequest(header=pb.ObjectHeader(content_type="application/pdf"))
        for _ in range(4):
            yield pb.PutObjectRequest(chunk=os.urandom(64 * 1024))
        await never.wait()

    # A plain channel: the OpenTelemetry client interceptor in the platform's channel keeps a
    # cancelled client-streaming call open on the wire until the channel closes
    # (open-telemetry/opentelemetry-python-contrib#3271).
    async with grpc.aio.insecure_channel(archive.address) as plain:
        call = archive_pb2_grpc.ArchiveServiceStub(plain).PutObject(
            requests(), metadata=metadata(archive.token)
        )
        await _cancel_once_receiving(archive, call)

    async def spool_empty() -> bool:
        return not any(archive.spool.iterdir())

    await eventually(spool_empty, what="the spool file to be removed")
    assert await archive.rows() == {}
    assert archive.versions() == []


async def _cancel_once_receiving(archive: Archive, call: Any) -> None:
    async def receiving() -> bool:
        files = list(archive.spool.glob("*")) if archive.spool.exists() else []
        return any(f.stat().st_size > 0 for f in files)

    await eventually(receiving, what="the upload to reach the spool")
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call


async def test_a_call_without_a_caller_token_is_unauthenticated(archive: Archive) -> None:
    data = os.urandom(1000)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await archive.stub.PutObject(upload(data, content_type="application/pdf"))
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await archive.stub.StatObject(pb.StatObjectRequest(sha256=sha(data)))
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in archive.stub.GetObject(pb.GetObjectRequest(sha256=sha(data))):
            pass
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert await archive.rows() == {}


async def test_a_service_identity_may_store(archive: Archive) -> None:
    token = TokenMint(archive.settings.keys_dir).service("exchange")
    data = os.urandom(2000)
    stored = await archive.stub.PutObject(
        upload(data, content_type="application/xml"), metadata=metadata(token)
    )
    assert stored.created and stored.object.sha256 == sha(data)


async def test_bytes_altered_in_the_store_are_reported_as_data_loss(archive: Archive) -> None:
    data = os.urandom(600 * 1024)
    await archive.put(data)
    tampered = bytearray(data)
    tampered[300_000] ^= 0xFF
    archive.s3.put_object(
        archive.bucket, f"objects/{sha(data)}", io.BytesIO(bytes(tampered)), len(tampered)
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await archive.get(sha(data))
    error = remote_error(caught.value)
    assert error.code is ErrorCode.DATA_LOSS
    assert error.reason == "FIXITY_MISMATCH"


async def test_bytes_gone_from_the_store_are_reported_as_data_loss(archive: Archive) -> None:
    data = os.urandom(1000)
    await archive.put(data)
    for name, version in archive.versions():
        archive.s3.remove_object(archive.bucket, name, version_id=version)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await archive.get(sha(data))
    assert remote_error(caught.value).reason == "OBJECT_MISSING"


@pytest.mark.parametrize(
    ("requests", "code", "reason"),
    [
        ([pb.PutObjectRequest(chunk=b"no header")], ErrorCode.INVALID_ARGUMENT, "HEADER_REQUIRED"),
        ([], ErrorCode.INVALID_ARGUMENT, "HEADER_REQUIRED"),
        (
            [pb.PutObjectRequest(header=pb.ObjectHeader(content_type="application/pdf"))],
            ErrorCode.INVALID_ARGUMENT,
            "EMPTY_OBJECT",
        ),
        (
            [
                pb.PutObjectRequest(header=pb.ObjectHeader(declared_size=10)),
                pb.PutObjectRequest(chunk=b"12345"),
            ],
            ErrorCode.INVALID_ARGUMENT,
            "SIZE_MISMATCH",
        ),
        (
            [
                pb.PutObjectRequest(header=pb.ObjectHeader()),
                pb.PutObjectRequest(chunk=b"12345"),
                pb.PutObjectRequest(header=pb.ObjectHeader()),
            ],
            ErrorCode.INVALID_ARGUMENT,
            "HEADER_REPEATED",
        ),
        (
            [pb.PutObjectRequest(header=pb.ObjectHeader(content_type="not a type"))],
            ErrorCode.INVALID_ARGUMENT,
            "INVALID_OBJECT_HEADER",
        ),
    ],
)
async def test_malformed_uploads_are_refused_with_a_reason(
    archive: Archive, requests: list[pb.PutObjectRequest], code: ErrorCode, reason: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await archive.stub.PutObject(iter(requests), metadata=metadata(archive.token))
    error = remote_error(caught.value)
    assert (error.code, error.reason) == (code, reason)
    assert await archive.rows() == {}
    assert archive.versions() == []


async def test_unknown_and_malformed_hashes(archive: Archive) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await archive.get("0" * 64)
    assert remote_error(caught.value).reason == "OBJECT_NOT_FOUND"
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await archive.stub.StatObject(
            pb.StatObjectRequest(sha256="../../etc/passwd"), metadata=metadata(archive.reader_token)
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert remote_error(caught.value).reason == "INVALID_SHA256"


async def publish_registered(nats_url: str, file_sha256: str, size: int) -> None:
    """What the documents service's outbox relay would publish for a registered document."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_service_stream(js, "documents")
        event = IncomingDocumentRegistered(
            document=documents_pb2.IncomingDocument(
                id=str(uuid.uuid4()),
                registered_by="van-thu-1",
                file=documents_pb2.FileRef(
                    sha256=file_sha256,
                    size=size,
                    content_type="application/pdf",
                    file_name="cong-van.pdf",
                ),
            ),
            agency_code=DEMO_AGENCY,
        )
        await js.publish(
            "vanban.documents.incoming.registered",
            event.SerializeToString(),
            headers={"Nats-Msg-Id": str(uuid.uuid4())},
        )
    finally:
        await nc.close()


async def test_the_sweeper_collects_unclaimed_objects_and_keeps_claimed_ones(
    make_settings: Callable[..., ArchiveSettings], s3: Minio, nats_server: Any
) -> None:
    settings = make_settings(unclaimed_ttl_seconds=4, sweep_interval_seconds=0.2)
    async with started(settings, s3) as archive:
        unclaimed, claimed = os.urandom(5000), os.urandom(6000)
        await archive.put(unclaimed)
        await archive.put(claimed)
        await publish_registered(nats_server.url, sha(claimed), len(claimed))

        async def is_claimed() -> bool:
            row = (await archive.rows()).get(sha(claimed))
            return row is not None and row["claimed_at"] is not None

        await eventually(is_claimed, what="the claim to be recorded")

        async def collected() -> bool:
            return sha(unclaimed) not in await archive.rows()

        await eventually(collected, what="the unclaimed object to be collected")
        assert [name for name, _ in archive.versions()] == [f"objects/{sha(claimed)}"]
        assert await archive.audit_actions(f"objects/{sha(unclaimed)}") == [
            "object.store",
            "object.collect",
        ]
        await asyncio.sleep(1)  # several more sweeps
        assert list(await archive.rows()) == [sha(claimed)]
        _, body = await archive.get(sha(claimed))
        assert body == claimed
        assert await archive.audit_actions(f"objects/{sha(claimed)}") == [
            "object.store",
            "object.claim",
        ]

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await archive.get(sha(unclaimed))
        assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def publish_directory_images(nats_url: str, signature: str, seal: str) -> None:
    """What the directory would publish after a leader's signature and the seal were set."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_service_stream(js, "directory")
        person = PersonUpserted(
            person=directory_pb2.Person(
                id=str(uuid.uuid4()), signature_image=directory_pb2.ImageRef(sha256=signature)
            )
        )
        agency = AgencyUpdated(
            agency=directory_pb2.Agency(
                code=DEMO_AGENCY, seal_image=directory_pb2.ImageRef(sha256=seal)
            )
        )
        for subject, event in (
            ("vanban.directory.person.upserted", person),
            ("vanban.directory.agency.updated", agency),
        ):
            await js.publish(
                subject, event.SerializeToString(), headers={"Nats-Msg-Id": str(uuid.uuid4())}
            )
    finally:
        await nc.close()


async def test_the_directorys_signature_and_seal_images_are_claimed_and_kept(
    make_settings: Callable[..., ArchiveSettings], s3: Minio, nats_server: Any
) -> None:
    settings = make_settings(unclaimed_ttl_seconds=3, sweep_interval_seconds=0.2)
    async with started(settings, s3) as archive:
        signature, seal, stray = os.urandom(2000), os.urandom(2100), os.urandom(2200)
        for data in (signature, seal, stray):
            await archive.put(data, content_type="image/png")
        await publish_directory_images(nats_server.url, sha(signature), sha(seal))

        async def both_claimed() -> bool:
            rows = await archive.rows()
            return all(
                rows.get(sha(d)) is not None and rows[sha(d)]["claimed_at"] is not None
                for d in (signature, seal)
            )

        await eventually(both_claimed, what="the images to be claimed")

        async def stray_collected() -> bool:
            return sha(stray) not in await archive.rows()

        await eventually(stray_collected, what="the unclaimed image to be collected")
        assert sorted(await archive.rows()) == sorted([sha(signature), sha(seal)])


async def test_bytes_no_record_accounts_for_are_collected(
    make_settings: Callable[..., ArchiveSettings], s3: Minio
) -> None:
    settings = make_settings(
        unclaimed_ttl_seconds=1, sweep_interval_seconds=0.2, orphan_scan_interval_seconds=0.2
    )
    orphan = os.urandom(3000)
    # As if a process had stopped between uploading and recording.
    s3.make_bucket(settings.bucket, object_lock=True)
    s3.put_object(settings.bucket, f"objects/{sha(orphan)}", io.BytesIO(orphan), len(orphan))
    s3.put_object(settings.bucket, "objects/not-a-hash", io.BytesIO(b"x"), 1)
    async with started(settings, s3) as archive:

        async def orphan_gone() -> bool:
            return all(name != f"objects/{sha(orphan)}" for name, _ in archive.versions())

        await eventually(orphan_gone, what="the orphaned bytes to be deleted")
        # Keys that are not content hashes are not the archive's to delete.
        assert [name for name, _ in archive.versions()] == ["objects/not-a-hash"]
        assert await archive.audit_actions(f"objects/{sha(orphan)}") == ["object.orphan.delete"]


async def test_a_new_upload_of_collected_content_is_stored_afresh(
    make_settings: Callable[..., ArchiveSettings], s3: Minio
) -> None:
    settings = make_settings(unclaimed_ttl_seconds=2, sweep_interval_seconds=0.2)
    async with started(settings, s3) as archive:
        data = os.urandom(4000)
        await archive.put(data)

        async def collected() -> bool:
            return await archive.rows() == {}

        await eventually(collected, what="the object to be collected")
        again = await archive.put(data)
        assert again.created
        _, body = await archive.get(sha(data))
        assert body == data


async def test_a_person_cannot_read_objects_by_hash(archive: Archive) -> None:
    """Knowing a file's SHA-256 is no right to read it: reads go through a service that checked
    the document (the gateway asks documents first)."""
    data = b"%PDF-1.4 van ban mat\n%%EOF"
    await archive.put(data)
    with pytest.raises(grpc.aio.AioRpcError) as stat:
        await archive.stub.StatObject(
            pb.StatObjectRequest(sha256=sha(data)), metadata=metadata(archive.token)
        )
    with pytest.raises(grpc.aio.AioRpcError) as read:
        async for _ in archive.stub.GetObject(
            pb.GetObjectRequest(sha256=sha(data)), metadata=metadata(archive.token)
        ):
            pass
    for refused in (stat, read):
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert remote_error(refused.value).reason == "SERVICE_ONLY"


# Releasing uploads: a refused record's bytes go at once, unless someone else needs them. -------


async def release(archive: Archive, upload_id: str, token: str | None = None) -> None:
    await archive.stub.ReleaseUpload(
        pb.ReleaseUploadRequest(upload_id=upload_id), metadata=metadata(token or archive.token)
    )


async def uploads(archive: Archive) -> list[str]:
    async with archive.db.connect() as conn:
        return list((await conn.execute(text("SELECT sha256 FROM uploads"))).scalars())


def holds(archive: Archive, data: bytes) -> bool:
    return any(name == f"objects/{sha(data)}" for name, _ in archive.versions())


async def test_a_released_upload_leaves_no_row_and_no_bytes(archive: Archive) -> None:
    data = os.urandom(300 * 1024)
    stored = await archive.put(data)
    assert stored.upload_id and holds(archive, data)
    assert await uploads(archive) == [sha(data)]

    await release(archive, stored.upload_id)

    assert await archive.rows() == {}
    assert archive.versions() == []
    assert await uploads(archive) == []
    assert await archive.audit_actions(f"objects/{sha(data)}") == [
        "object.store",
        "object.release",
    ]
    await release(archive, stored.upload_id)  # again: nothing left, nothing happens


async def test_only_the_uploader_can_release(archive: Archive) -> None:
    data = os.urandom(2000)
    stored = await archive.put(data)
    other = TokenMint(archive.settings.keys_dir).person("van-thu-2", roles=("clerk",))
    await release(archive, stored.upload_id, other)
    assert list(await archive.rows()) == [sha(data)] and holds(archive, data)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await release(archive, "../objects")
    assert remote_error(caught.value).reason == "INVALID_UPLOAD_ID"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await archive.stub.ReleaseUpload(pb.ReleaseUploadRequest(upload_id=stored.upload_id))
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert holds(archive, data)


async def test_content_another_upload_still_holds_survives_a_release_until_claimed(
    archive: Archive, nats_server: Any
) -> None:
    """Two requests send the same file: one is refused and releases, the other registers and
    its claim arrives later. The bytes must be there when it does, and stay."""
    data = os.urandom(50_000)
    other = TokenMint(archive.settings.keys_dir).person("van-thu-2", roles=("clerk",))
    refused = await archive.put(data)
    registered = await archive.stub.PutObject(
        upload(data, content_type="application/pdf"), metadata=metadata(other)
    )
    await release(archive, refused.upload_id)
    assert holds(archive, data) and list(await archive.rows()) == [sha(data)]

    await publish_registered(nats_server.url, sha(data), len(data))

    async def claimed() -> bool:
        row = (await archive.rows()).get(sha(data))
        return row is not None and row["claimed_at"] is not None

    await eventually(claimed, what="the claim to be recorded")
    assert await uploads(archive) == []  # a claimed object needs no reservation
    await release(archive, registered.upload_id, other)
    _, body = await archive.get(sha(data))
    assert body == data


async def test_a_release_racing_another_upload_of_the_same_content_never_loses_its_bytes(
    archive: Archive,
) -> None:
    """An upload reserves its content before it writes or reuses a byte, so a release running
    at the same time either sees that reservation and keeps the bytes, or deletes them before
    the upload looks and the upload stores them afresh: the holder can always read them."""
    other = TokenMint(archive.settings.keys_dir).person("van-thu-2", roles=("clerk",))
    for _ in range(8):
        data = os.urandom(400 * 1024)
        first = await archive.put(data)
        # The second upload and the release of the first run at the same time.
        second, _ = await asyncio.gather(
            archive.stub.PutObject(
                upload(data, content_type="application/pdf"), metadata=metadata(other)
            ),
            release(archive, first.upload_id),
        )
        _, body = await archive.get(sha(data))
        assert body == data
        await release(archive, second.upload_id, other)
        assert sha(data) not in await archive.rows() and not holds(archive, data)
    assert await uploads(archive) == []
