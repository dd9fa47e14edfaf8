"""Signature and seal images through the directory into a real archive (PostgreSQL, NATS,
SeaweedFS S3), in-process."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from services.directory.tests.integration.support import call, failure, published
from services.directory.tests.unit.fakes import make_png
from vanban.archive.app import build as build_archive
from vanban.archive.settings import ArchiveSettings
from vanban.contracts.archive.v1 import archive_pb2 as apb
from vanban.contracts.archive.v1 import archive_pb2_grpc
from vanban.contracts.directory.v1 import directory_pb2 as pb
from vanban.contracts.directory.v1 import events_pb2
from vanban.directory.adapters.archive import ArchiveObjectStore
from vanban.directory.app import build
from vanban.directory.settings import DirectorySettings
from vanban.launcher.infra import NatsServer, SeaweedServer
from vanban.launcher.pytest_plugin import DatabaseFactory
from vanban.platform.grpc.status import remote_error
from vanban.platform.testing import DEMO_AGENCY, TokenMint, channel, metadata, running

SIGNATURE = make_png(width=60, height=20, rgba=b"\x00\x00\xcc\x90")
SEAL = make_png(width=40, height=40, rgba=b"\xdd\x00\x00\x90")


@pytest.fixture(scope="module")
async def archive(
    make_database: DatabaseFactory,
    s3_server: SeaweedServer,
    nats_server: NatsServer,
    mint: TokenMint,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[str]:
    settings = ArchiveSettings(
        agency_code=DEMO_AGENCY,
        keys_dir=mint.keys_dir,
        database_url=make_database("directory_archive"),
        nats_url=nats_server.url,
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        bucket=f"vanban-test-{secrets.token_hex(6)}",
        spool_dir=Path(tmp_path_factory.mktemp("spool")),
        shutdown_grace=2.0,
    )
    async with running(build_archive(settings)) as address:
        yield address


@pytest.fixture(scope="module")
async def directory(
    directory_database: str, nats_server: NatsServer, mint: TokenMint, archive: str
) -> AsyncIterator[str]:
    settings = DirectorySettings(
        agency_code=DEMO_AGENCY,
        keys_dir=mint.keys_dir,
        nats_url=nats_server.url,
        database_url=directory_database,
        peers={"archive": archive},
    )
    async with running(build(settings)) as address:
        yield address


async def archived(archive: str, sha256: str, token: str) -> tuple[apb.ObjectInfo, bytes]:
    """The stored bytes, read as a platform service (persons may not read by hash)."""
    async with channel(archive) as ch:
        stub = archive_pb2_grpc.ArchiveServiceStub(ch)
        info, body = None, bytearray()
        async for part in stub.GetObject(
            apb.GetObjectRequest(sha256=sha256), metadata=metadata(token)
        ):
            if part.WhichOneof("part") == "info":
                info = part.info
            else:
                body += part.chunk
    assert info is not None
    return info, bytes(body)


async def test_a_leaders_signature_round_trips_through_the_archive(
    directory: str, archive: str, mint: TokenMint, nats_server: NatsServer
) -> None:
    admin = mint.person("admin-1", roles=("admin",))
    leader = await call(
        directory, "FindPerson", pb.FindPersonRequest(username="lanhdao"), mint.service()
    )
    answer = await call(
        directory,
        "SetSignatureImage",
        pb.SetSignatureImageRequest(person_id=leader.person.id, png=SIGNATURE),
        admin,
    )
    sha = hashlib.sha256(SIGNATURE).hexdigest()
    assert answer.person.signature_image == pb.ImageRef(sha256=sha, size=len(SIGNATURE))
    read = await call(directory, "GetPerson", pb.GetPersonRequest(id=leader.person.id), admin)
    assert read.person.signature_image.sha256 == sha

    info, body = await archived(archive, sha, mint.service("gateway"))
    assert body == SIGNATURE
    assert (info.content_type, info.size) == ("image/png", len(SIGNATURE))

    events = await published(nats_server.url, "vanban.directory.person.upserted", at_least=6)
    signed = [
        events_pb2.PersonUpserted.FromString(m.data).person
        for m in events
        if events_pb2.PersonUpserted.FromString(m.data).person.signature_image.sha256
    ]
    assert [p.signature_image.sha256 for p in signed] == [sha]


async def test_the_agency_seal_is_stored_and_shown_on_the_agency(
    directory: str, archive: str, mint: TokenMint
) -> None:
    admin = mint.person("admin-1", roles=("admin",))
    answer = await call(directory, "SetSealImage", pb.SetSealImageRequest(png=SEAL), admin)
    sha = hashlib.sha256(SEAL).hexdigest()
    assert answer.agency.seal_image.sha256 == sha
    agency = await call(directory, "GetAgency", pb.GetAgencyRequest(), mint.person("reader"))
    assert agency.agency.seal_image == pb.ImageRef(sha256=sha, size=len(SEAL))
    _, body = await archived(archive, sha, mint.service("gateway"))
    assert body == SEAL


async def test_bad_images_wrong_people_and_non_admins_store_nothing(
    directory: str, archive: str, mint: TokenMint
) -> None:
    admin = mint.person("admin-1", roles=("admin",))
    specialist = await call(
        directory, "FindPerson", pb.FindPersonRequest(username="chuyenvien"), mint.service()
    )
    leader = await call(
        directory, "FindPerson", pb.FindPersonRequest(username="lanhdao"), mint.service()
    )
    pdf = b"%PDF-1.7\n" + secrets.token_bytes(64)
    not_png = await failure(
        directory,
        "SetSignatureImage",
        pb.SetSignatureImageRequest(person_id=leader.person.id, png=pdf),
        admin,
    )
    assert not_png.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert remote_error(not_png).reason == "INVALID_IMAGE"
    too_big = await failure(
        directory,
        "SetSealImage",
        pb.SetSealImageRequest(png=SEAL + secrets.token_bytes(1024 * 1024)),
        admin,
    )
    assert too_big.code() is grpc.StatusCode.INVALID_ARGUMENT
    other = make_png(rgba=b"\x00\x00\xff\x01")
    not_a_leader = await failure(
        directory,
        "SetSignatureImage",
        pb.SetSignatureImageRequest(person_id=specialist.person.id, png=other),
        admin,
    )
    assert not_a_leader.code() is grpc.StatusCode.FAILED_PRECONDITION
    denied = await failure(
        directory,
        "SetSignatureImage",
        pb.SetSignatureImageRequest(person_id=leader.person.id, png=other),
        mint.person(leader.person.id, roles=("agency_leader",)),
    )
    assert denied.code() is grpc.StatusCode.PERMISSION_DENIED
    for data in (pdf, other):
        async with channel(archive) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await archive_pb2_grpc.ArchiveServiceStub(ch).StatObject(
                    apb.StatObjectRequest(sha256=hashlib.sha256(data).hexdigest()),
                    metadata=metadata(mint.service("gateway")),
                )
        assert raised.value.code() is grpc.StatusCode.NOT_FOUND


async def test_an_image_given_back_leaves_nothing_in_the_archive(
    archive: str, mint: TokenMint
) -> None:
    """What the directory does when its second look refuses an image it already stored: the
    archive deletes it at once, on the word of the administrator who uploaded it."""
    admin = mint.person("admin-1", roles=("admin",))
    png = make_png(rgba=b"\x00\x00\xff\x02")
    sha = hashlib.sha256(png).hexdigest()
    async with channel(archive) as ch:
        store = ArchiveObjectStore(lambda: ch, caller_token=admin)
        stored = await store.put(png, content_type="image/png", file_name="signature-x.png")
        assert stored.ref.sha256 == sha and stored.upload_id
        await store.release(stored.upload_id)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await archive_pb2_grpc.ArchiveServiceStub(ch).StatObject(
                apb.StatObjectRequest(sha256=sha), metadata=metadata(mint.service("gateway"))
            )
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
