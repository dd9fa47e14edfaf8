"""Write-once protection and fixity reads of the archive's S3 adapter against a real SeaweedFS.

The adapter runs with the keys the archive has under `vanban up`: an identity limited to the
agency bucket, which may not bypass a lock. Each test has a bucket of its own.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.retention import Retention

from vanban.archive.adapters.s3.store import S3ObjectStore
from vanban.archive.domain.errors import (
    FixityMismatchError,
    ObjectMissingError,
    ObjectUnreadableError,
    RetentionConflictError,
)
from vanban.archive.domain.model import FixityCheck, object_key
from vanban.archive.domain.ports import RetentionMode, VersionLock
from vanban.launcher.infra import SeaweedServer, free_port
from vanban.launcher.infra import seaweed as seaweed_infra
from vanban.launcher.infra.seaweed import S3Identity
from vanban.launcher.infra.seaweed_damage import corrupt_stored_object
from vanban.platform.errors import DomainError, InvalidArgumentError, UnavailableError

MIB = 1024 * 1024
BUCKETS = tuple(f"vanban-worm-{secrets.token_hex(3)}-{n:02d}" for n in range(20))
_unused_buckets = iter(BUCKETS)
# What the archive's keys need besides reading and writing objects, to lock them.
LOCK_ACTIONS = (
    "GetObjectRetention",
    "PutObjectRetention",
    "GetObjectLegalHold",
    "PutObjectLegalHold",
)
# The latest moment both SeaweedFS and MinIO take (four-digit years, whole seconds kept).
LAST_SECOND = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def in_days(days: int) -> datetime:
    # Stores keep whole seconds.
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


@dataclass
class Agency:
    server: SeaweedServer
    identity: S3Identity


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agency]:
    identity = S3Identity("archive", BUCKETS)
    server = SeaweedServer(tmp_path_factory.mktemp("worm") / "data", identities=[identity])
    # The launcher grants an agency's keys the object-lock actions (and never the bypass):
    # without them every lock call would be refused.
    assert set(LOCK_ACTIONS) <= set(seaweed_infra._BUCKET_ACTIONS)
    server.start()
    try:
        yield Agency(server=server, identity=identity)
    finally:
        server.stop()


def agency_keys(agency: Agency, *, retries: urllib3.Retry | bool | None = None) -> Minio:
    """The archive's own keys; `retries` replaces the SDK's (5 retries of a 5xx answer, which
    SeaweedFS makes after about 13 s each at a chunk it cannot read)."""
    http = None if retries is None else urllib3.PoolManager(maxsize=10, retries=retries)
    return Minio(
        agency.server.endpoint,
        access_key=agency.identity.access_key,
        secret_key=agency.identity.secret_key,
        secure=False,
        http_client=http,
    )


@dataclass
class Bucket:
    name: str
    store: S3ObjectStore
    # The same keys used directly, as anyone holding them could.
    keys: Minio
    admin: Minio
    data_dir: Path
    spool: Path

    async def put(self, data: bytes) -> tuple[str, str]:
        sha256 = hashlib.sha256(data).hexdigest()
        source = self.spool / sha256
        source.write_bytes(data)
        version = await self.store.put(
            sha256=sha256, size=len(data), content_type="application/pdf", source=source
        )
        assert version is not None, "the bucket keeps versions"
        return sha256, version

    async def read(self, sha256: str, *, version_id: str | None = None) -> bytes:
        return b"".join([chunk async for chunk in self.store.read(sha256, version_id=version_id)])


@pytest.fixture
def bucket(agency: Agency, tmp_path: Path) -> Bucket:
    name = next(_unused_buckets)
    # As in production, whoever runs the server creates the bucket: agency keys may not.
    agency.server.ensure_bucket(name, object_lock=True)
    return Bucket(
        name=name,
        store=S3ObjectStore(agency_keys(agency, retries=False), bucket=name),
        keys=agency_keys(agency),
        admin=agency.server.client(),
        data_dir=agency.server.data_dir,
        spool=tmp_path,
    )


def delete_refused(client: Minio, bucket: Bucket, sha256: str, version: str) -> str | None:
    """The error code of a delete of this version with the bypass header; None if it went."""
    errors = list(
        client.remove_objects(
            bucket.name, [DeleteObject(object_key(sha256), version)], bypass_governance_mode=True
        )
    )
    return errors[0].code if errors else None


async def test_a_compliance_lock_outlasts_every_delete(bucket: Bucket) -> None:
    data = os.urandom(300_000)
    sha256, version = await bucket.put(data)
    until = in_days(1)

    assert await bucket.store.protect(sha256=sha256, mode="COMPLIANCE", retain_until=until) == [
        version
    ]

    with pytest.raises(S3Error) as refused:
        await bucket.store.delete_version(sha256=sha256, version_id=version)
    assert refused.value.code == "AccessDenied"
    with pytest.raises(DomainError) as locked:
        await bucket.store.delete(sha256)
    assert locked.value.reason == "OBJECT_LOCKED"
    assert delete_refused(bucket.keys, bucket, sha256, version) == "AccessDenied"
    # Not even the server's administrator.
    assert delete_refused(bucket.admin, bucket, sha256, version) == "AccessDenied"
    assert await bucket.store.retention(sha256) == [
        VersionLock(version, RetentionMode.COMPLIANCE, until, legal_hold=False)
    ]
    assert await bucket.read(sha256, version_id=version) == data


async def test_a_governance_lock_holds_against_the_archives_keys_even_with_the_bypass_header(
    bucket: Bucket,
) -> None:
    data = os.urandom(10_000)
    sha256, version = await bucket.put(data)
    await bucket.store.protect(sha256=sha256, mode="GOVERNANCE", retain_until=in_days(1))

    with pytest.raises(S3Error) as refused:
        await bucket.store.delete_version(sha256=sha256, version_id=version)
    assert refused.value.code == "AccessDenied"
    assert delete_refused(bucket.keys, bucket, sha256, version) == "AccessDenied"
    assert await bucket.read(sha256) == data
    # The same request with the administrator's keys goes through: GOVERNANCE protects only
    # against keys without the bypass right, so the archive must never hold those.
    assert delete_refused(bucket.admin, bucket, sha256, version) is None
    assert await bucket.store.versions(sha256) == []


async def test_a_delete_without_a_version_id_does_not_hide_a_locked_object(
    bucket: Bucket,
) -> None:
    data = os.urandom(50_000)
    sha256, version = await bucket.put(data)
    await bucket.store.protect(sha256=sha256, mode="COMPLIANCE", retain_until=in_days(1))

    bucket.keys.remove_object(bucket.name, object_key(sha256))  # succeeds: a delete marker

    with pytest.raises(S3Error) as hidden:
        bucket.keys.get_object(bucket.name, object_key(sha256))
    assert hidden.value.code == "NoSuchKey"
    assert await bucket.store.versions(sha256) == [version]
    assert await bucket.read(sha256) == data
    assert await bucket.read(sha256, version_id=version) == data


async def test_a_lock_is_never_shortened_nor_made_weaker(bucket: Bucket) -> None:
    sha256, version = await bucket.put(os.urandom(1000))
    far = in_days(400)
    await bucket.store.protect(sha256=sha256, mode="COMPLIANCE", retain_until=far)

    # A second dossier holding the same file, kept for less time under a laxer regime.
    assert await bucket.store.protect(
        sha256=sha256, mode="GOVERNANCE", retain_until=in_days(30)
    ) == [version]
    assert await bucket.store.retention(sha256) == [
        VersionLock(version, RetentionMode.COMPLIANCE, far, legal_hold=False)
    ]

    # A third, kept longer: the date moves, the mode stays the stricter one.
    further = in_days(800)
    await bucket.store.protect(sha256=sha256, mode="GOVERNANCE", retain_until=further)
    assert await bucket.store.retention(sha256) == [
        VersionLock(version, RetentionMode.COMPLIANCE, further, legal_hold=False)
    ]

    # Asked directly, the store refuses to shorten or to weaken it too.
    for weaker in (Retention(COMPLIANCE, far), Retention(GOVERNANCE, in_days(900))):
        with pytest.raises(S3Error) as refused:
            bucket.keys.set_object_retention(
                bucket.name, object_key(sha256), weaker, version_id=version
            )
        assert refused.value.code == "AccessDenied"
    assert (await bucket.store.retention(sha256))[0].retain_until == further


async def test_a_governance_lock_is_not_made_compliance_behind_the_locks_back(
    bucket: Bucket,
) -> None:
    sha256, version = await bucket.put(os.urandom(1000))
    until = in_days(10)
    await bucket.store.protect(sha256=sha256, mode="GOVERNANCE", retain_until=until)

    with pytest.raises(RetentionConflictError) as conflict:
        await bucket.store.protect(sha256=sha256, mode="COMPLIANCE", retain_until=in_days(20))
    assert conflict.value.metadata["mode"] == "GOVERNANCE"
    assert await bucket.store.retention(sha256) == [
        VersionLock(version, RetentionMode.GOVERNANCE, until, legal_hold=False)
    ]


async def test_every_version_of_an_object_is_locked(bucket: Bucket) -> None:
    data = os.urandom(2000)
    sha256, older = await bucket.put(data)
    _, newer = await bucket.put(data)  # an upload racing the first one, say
    until = in_days(5)

    assert await bucket.store.protect(sha256=sha256, mode="COMPLIANCE", retain_until=until) == [
        newer,
        older,
    ]
    assert await bucket.store.retention(sha256) == [
        VersionLock(newer, RetentionMode.COMPLIANCE, until, legal_hold=False),
        VersionLock(older, RetentionMode.COMPLIANCE, until, legal_hold=False),
    ]
    for version in (older, newer):
        assert delete_refused(bucket.keys, bucket, sha256, version) == "AccessDenied"


@pytest.mark.parametrize(
    "until",
    [LAST_SECOND, datetime(9999, 12, 31, tzinfo=UTC), in_days(1000 * 365)],
    ids=["9999-12-31T23:59:59", "9999-12-31", "in-1000-years"],
)
async def test_a_permanent_lock_fits_in_the_stores_dates(bucket: Bucket, until: datetime) -> None:
    sha256, version = await bucket.put(os.urandom(1000))
    await bucket.store.protect(sha256=sha256, mode="COMPLIANCE", retain_until=until)

    assert await bucket.store.retention(sha256) == [
        VersionLock(version, RetentionMode.COMPLIANCE, until, legal_hold=False)
    ]
    assert delete_refused(bucket.keys, bucket, sha256, version) == "AccessDenied"


async def test_a_legal_hold_blocks_deletion_until_it_is_lifted(bucket: Bucket) -> None:
    data = os.urandom(5000)
    sha256, version = await bucket.put(data)

    await bucket.store.set_legal_hold(sha256=sha256, on=True)
    assert await bucket.store.retention(sha256) == [
        VersionLock(version, mode=None, retain_until=None, legal_hold=True)
    ]
    with pytest.raises(S3Error) as refused:
        await bucket.store.delete_version(sha256=sha256, version_id=version)
    assert refused.value.code == "AccessDenied"
    assert delete_refused(bucket.admin, bucket, sha256, version) == "AccessDenied"
    assert await bucket.read(sha256) == data

    await bucket.store.set_legal_hold(sha256=sha256, on=False)
    assert await bucket.store.retention(sha256) == [
        VersionLock(version, mode=None, retain_until=None, legal_hold=False)
    ]
    await bucket.store.delete_version(sha256=sha256, version_id=version)
    assert await bucket.store.versions(sha256) == []
    with pytest.raises(ObjectMissingError):
        await bucket.read(sha256)


async def test_locking_an_object_the_store_does_not_hold_is_refused(bucket: Bucket) -> None:
    absent = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(ObjectMissingError):
        await bucket.store.protect(sha256=absent, mode="COMPLIANCE", retain_until=in_days(1))
    with pytest.raises(ObjectMissingError):
        await bucket.store.set_legal_hold(sha256=absent, on=True)


async def test_a_lock_until_a_moment_past_is_refused_and_changes_nothing(bucket: Bucket) -> None:
    sha256, version = await bucket.put(os.urandom(1000))
    with pytest.raises(InvalidArgumentError) as refused:
        await bucket.store.protect(sha256=sha256, mode="COMPLIANCE", retain_until=in_days(-1))
    assert refused.value.reason == "RETENTION_IN_THE_PAST"
    assert await bucket.store.retention(sha256) == [
        VersionLock(version, mode=None, retain_until=None, legal_hold=False)
    ]


async def fixity(bucket: Bucket, sha256: str, size: int) -> bytes:
    """What the scheduled fixity check does: read everything back, then compare."""
    check = FixityCheck(sha256=sha256, size=size)
    received = bytearray()
    async for chunk in bucket.store.read(sha256):
        check.feed(chunk)
        received += chunk
    check.verify()
    return bytes(received)


async def test_a_flipped_byte_on_disk_is_reported_as_unreadable(
    agency: Agency, bucket: Bucket
) -> None:
    # One retry of a 500, as the SDK does five: the failure then ends in urllib3's MaxRetryError.
    bucket = replace(
        bucket,
        store=S3ObjectStore(
            agency_keys(agency, retries=urllib3.Retry(total=1, status_forcelist=[500])),
            bucket=bucket.name,
        ),
    )
    data = os.urandom(200_000)
    sha256, version = await bucket.put(data)
    await bucket.store.protect(sha256=sha256, mode="COMPLIANCE", retain_until=in_days(1))
    assert await fixity(bucket, sha256, len(data)) == data  # read once: nothing cached hides it

    corrupt_stored_object(bucket.data_dir, data)

    with pytest.raises(ObjectUnreadableError) as caught:
        await fixity(bucket, sha256, len(data))
    assert caught.value.reason == "OBJECT_UNREADABLE"
    assert caught.value.metadata["sha256"] == sha256
    # Still listed and still locked: the store holds the object, only its bytes are gone.
    assert await bucket.store.versions(sha256) == [version]


async def test_a_flipped_byte_deep_in_a_large_object_is_reported_after_the_good_part(
    bucket: Bucket,
) -> None:
    data = os.urandom(20 * MIB)
    sha256, _ = await bucket.put(data)
    corrupt_stored_object(bucket.data_dir, data)

    received = 0
    with pytest.raises(ObjectUnreadableError):
        async for chunk in bucket.store.read(sha256):
            received += len(chunk)
    # The chunks before the damaged one came through: the stream was cut, then resumed once.
    assert 0 < received < len(data)


async def test_bytes_altered_behind_the_stores_checksum_fail_the_fixity_check(
    bucket: Bucket,
) -> None:
    data = os.urandom(100_000)
    sha256, _ = await bucket.put(data)
    corrupt_stored_object(bucket.data_dir, data, keep_checksum=True)

    with pytest.raises(FixityMismatchError) as caught:
        await fixity(bucket, sha256, len(data))
    assert caught.value.metadata["actual_sha256"] != sha256
    assert caught.value.metadata["actual_size"] == str(len(data))


async def test_an_unreachable_store_is_unavailable_not_data_loss(agency: Agency) -> None:
    nowhere = Minio(
        f"127.0.0.1:{free_port()}",
        access_key=agency.identity.access_key,
        secret_key=agency.identity.secret_key,
        secure=False,
        http_client=urllib3.PoolManager(retries=False),
    )
    store = S3ObjectStore(nowhere, bucket=BUCKETS[0])
    with pytest.raises(UnavailableError):
        async for _ in store.read(hashlib.sha256(b"x").hexdigest()):
            pass
