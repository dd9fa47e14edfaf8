"""The agency bucket through the `minio` SDK (MinIO in production, SeaweedFS locally).

The SDK is synchronous: every call goes through `asyncio.to_thread` so the event loop keeps
serving other RPCs while bytes move.

Both servers enforce S3 object lock the same way where it matters here (seen on SeaweedFS 4.48,
read in MinIO's source): a locked version is not deleted, a COMPLIANCE lock is neither shortened
nor turned into GOVERNANCE, a GOVERNANCE lock is neither shortened nor turned into COMPLIANCE
without the bypass header, and a legal hold blocks deletion even with it. A delete without a
version id succeeds and adds a delete marker. Where they differ is the codes they answer with,
which is what the constants below absorb.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import certifi
import urllib3
import urllib3.exceptions
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.retention import Retention
from urllib3 import BaseHTTPResponse

from vanban.archive.domain.errors import (
    ObjectMissingError,
    ObjectUnreadableError,
    RetentionConflictError,
)
from vanban.archive.domain.model import SHA256_RE, object_key
from vanban.archive.domain.ports import RetentionMode, StoredVersion, VersionLock
from vanban.platform.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    UnavailableError,
)

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 256 * 1024
PREFIX = "objects/"
LIST_PAGE = 1000
_MISSING = {"NoSuchKey", "NoSuchVersion", "NoSuchObject"}
_BUCKET_TAKEN = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}
# "This version has no retention / no legal hold": AWS and MinIO say NoSuchObjectLockConfiguration
# (which the SDK turns into None or False), SeaweedFS says it with codes of its own.
_NO_RETENTION = {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"}
_NO_LEGAL_HOLD = {"NoSuchObjectLockConfiguration", "NoSuchObjectLegalHold"}
# A lock refusing a change: SeaweedFS answers AccessDenied, MinIO InvalidRequest ("Object is WORM
# protected").
_LOCKED = {"AccessDenied", "InvalidRequest"}
# The id S3 gives a version written while the bucket kept none.
NULL_VERSION = "null"
_STRICTNESS = {RetentionMode.GOVERNANCE: 0, RetentionMode.COMPLIANCE: 1}
_FAILED_READ = (urllib3.exceptions.HTTPError, ServerError, InvalidResponseError)


class S3ObjectStore:
    def __init__(self, client: Minio, *, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    @classmethod
    def connect(
        cls, *, endpoint: str, access_key: str, secret_key: str, secure: bool, bucket: str
    ) -> S3ObjectStore:
        # No network traffic here: the client connects on first use.
        return cls(
            Minio(
                endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                http_client=_http_client(),
            ),
            bucket=bucket,
        )

    async def ensure_bucket(self) -> None:
        """Creates the agency bucket with object lock (hence versioning) if it is missing."""
        if await asyncio.to_thread(self._client.bucket_exists, self.bucket):
            return
        try:
            await asyncio.to_thread(self._client.make_bucket, self.bucket, object_lock=True)
        except S3Error as exc:
            if exc.code not in _BUCKET_TAKEN:  # another replica created it meanwhile
                raise
        logger.info("created bucket", extra={"bucket": self.bucket})

    async def put(self, *, sha256: str, size: int, content_type: str, source: Path) -> str | None:
        key = object_key(sha256)

        def upload() -> str | None:
            with source.open("rb") as data, _unavailable_on_failure():
                result = self._client.put_object(
                    self.bucket,
                    key,
                    data,
                    length=size,
                    content_type=content_type,
                    metadata={"sha256": sha256},
                )
            return result.version_id

        uploading = asyncio.ensure_future(asyncio.to_thread(upload))
        try:
            return await asyncio.shield(uploading)
        except asyncio.CancelledError:
            # The SDK cannot be interrupted: let the thread finish, then remove exactly the
            # version it wrote, so a cancelled upload leaves nothing behind.
            try:
                version_id = await uploading
                if version_id is not None:
                    await self.delete_version(sha256=sha256, version_id=version_id)
            except Exception:
                logger.exception("could not undo a cancelled upload", extra={"sha256": sha256})
            raise

    async def read(self, sha256: str, *, version_id: str | None = None) -> AsyncIterator[bytes]:
        response = await self._open(sha256, version_id=version_id)
        # A resumed stream must continue the very version it started with.
        pinned = version_id or response.headers.get("x-amz-version-id") or None
        delivered = 0
        resumed = False
        try:
            while True:
                try:
                    chunk = await asyncio.to_thread(_read_exactly, response, READ_CHUNK_BYTES)
                except (urllib3.exceptions.HTTPError, OSError) as exc:
                    _release(response)
                    if resumed:
                        raise await self._read_failure(sha256, pinned, exc) from exc
                    # A dropped connection is resumed once where it stopped; SeaweedFS also cuts
                    # the stream short at a chunk it cannot read, and then the resumed read
                    # fails as well.
                    logger.warning(
                        "an object stream was cut short; resuming it",
                        extra={"sha256": sha256, "offset": delivered, "error": repr(exc)},
                    )
                    resumed = True
                    response = await self._open(sha256, version_id=pinned, offset=delivered)
                    continue
                if not chunk:
                    break
                delivered += len(chunk)
                yield chunk
        finally:
            _release(response)

    async def _open(
        self, sha256: str, *, version_id: str | None, offset: int = 0
    ) -> BaseHTTPResponse:
        failure: Exception
        try:
            return await asyncio.to_thread(
                self._client.get_object,
                self.bucket,
                object_key(sha256),
                offset=offset,
                version_id=version_id,
            )
        except S3Error as exc:
            if exc.code in _MISSING:
                if version_id is None:
                    # A delete without a version id hides the key behind a delete marker but
                    # leaves every version, locked ones included, in place.
                    hidden = await self.versions(sha256)
                    if hidden:
                        logger.warning(
                            "a delete marker hides a stored object; reading its newest version",
                            extra={"sha256": sha256, "version_id": hidden[0]},
                        )
                        return await self._open(sha256, version_id=hidden[0], offset=offset)
                raise _missing(sha256) from None
            # What SeaweedFS answers, after retrying for about 13 s, when a chunk of the object
            # fails its CRC check.
            if exc.code != "InternalError":
                raise
            failure = exc
        except _FAILED_READ as exc:
            # The SDK's own retries of 5xx answers end here too (MaxRetryError).
            failure = exc
        raise await self._read_failure(sha256, version_id, failure) from failure

    async def _read_failure(
        self, sha256: str, version_id: str | None, failure: Exception
    ) -> Exception:
        """What a read that failed for good means: the store is asked for the object's metadata
        alone. If it answers, it is up and holds the object but cannot give its bytes back,
        which is data loss, not a reason to try again later."""
        try:
            await asyncio.to_thread(
                self._client.stat_object, self.bucket, object_key(sha256), version_id=version_id
            )
        except S3Error as exc:
            if exc.code in _MISSING:
                return _missing(sha256)
            return exc
        except _FAILED_READ as exc:
            return _unavailable(exc)
        logger.error(
            "the store holds an object it cannot read",
            extra={"sha256": sha256, "version_id": version_id, "error": repr(failure)},
        )
        return ObjectUnreadableError(
            "the object store holds the object but cannot read its bytes back",
            metadata={
                "sha256": sha256,
                "version_id": version_id or "",
                "store_error": _describe(failure),
            },
        )

    async def delete(self, sha256: str) -> None:
        # Versioned bucket: a plain delete would only add a delete marker and keep the bytes.
        key = object_key(sha256)

        def remove_all() -> None:
            for item in self._client.list_objects(self.bucket, prefix=key, include_version=True):
                if item.object_name == key:
                    self._client.remove_object(self.bucket, key, version_id=item.version_id)

        try:
            await asyncio.to_thread(remove_all)
        except S3Error as exc:
            # SeaweedFS answers AccessDenied, MinIO InvalidRequest, for a version under lock.
            if exc.code in ("AccessDenied", "InvalidRequest"):
                raise FailedPreconditionError(
                    "the store keeps the object under an object lock or legal hold",
                    reason="OBJECT_LOCKED",
                    metadata={"sha256": sha256, "store_code": exc.code},
                ) from None
            raise

    async def versions_before(self, before: datetime) -> AsyncIterator[StoredVersion]:
        listing = iter(
            self._client.list_objects(
                self.bucket, prefix=PREFIX, recursive=True, include_version=True
            )
        )
        while page := await asyncio.to_thread(_next_page, listing, LIST_PAGE):
            for item in page:
                sha256 = (item.object_name or "").removeprefix(PREFIX)
                modified = item.last_modified
                # Keys that are not ours by shape are none of the sweeper's business.
                if not SHA256_RE.match(sha256) or modified is None or modified >= before:
                    continue
                yield StoredVersion(
                    sha256=sha256, version_id=item.version_id, last_modified=modified
                )

    async def delete_version(self, *, sha256: str, version_id: str | None) -> None:
        await asyncio.to_thread(
            self._client.remove_object, self.bucket, object_key(sha256), version_id=version_id
        )

    async def versions(self, sha256: str) -> list[str]:
        key = object_key(sha256)

        def listing() -> list[Any]:
            with _unavailable_on_failure():
                return [
                    item
                    for item in self._client.list_objects(
                        self.bucket, prefix=key, include_version=True
                    )
                    if item.object_name == key and not item.is_delete_marker
                ]

        # Newest first, as S3 lists them. Not by LastModified: SeaweedFS moves it to the time of
        # a version's last lock change.
        return [item.version_id or NULL_VERSION for item in await asyncio.to_thread(listing)]

    async def protect(self, *, sha256: str, mode: str, retain_until: datetime) -> list[str]:
        wanted = RetentionMode(mode)
        if retain_until.tzinfo is None:
            raise ValueError("retain_until must carry a time zone")
        until = retain_until.astimezone(UTC).replace(microsecond=0)
        versions = await self._versions_or_missing(sha256)
        now = datetime.now(UTC)
        # Every version is checked before any is changed: a conflict changes nothing.
        plan: list[tuple[str, Retention | None]] = []
        for version_id in versions:
            lock = await self._lock_of(sha256, version_id)
            plan.append((version_id, _strengthened(lock, wanted, until, now=now, sha256=sha256)))
        for version_id, retention in plan:
            if retention is not None:
                await self._set_retention(sha256, version_id, retention)
        logger.info(
            "protected an object",
            extra={"sha256": sha256, "mode": wanted.value, "retain_until": until.isoformat()},
        )
        return versions

    async def _set_retention(self, sha256: str, version_id: str, retention: Retention) -> None:
        try:
            with _unavailable_on_failure():
                await asyncio.to_thread(
                    self._client.set_object_retention,
                    self.bucket,
                    object_key(sha256),
                    retention,
                    version_id=version_id,
                )
        except S3Error as exc:
            if exc.code not in _LOCKED:
                raise
            # Refused as a shortening: another call locked it for longer meanwhile, which is as
            # good. Anything else (such as keys without the right to lock) stands.
            lock = await self._lock_of(sha256, version_id)
            if not _satisfies(lock, RetentionMode(retention.mode), retention.retain_until_date):
                raise

    async def set_legal_hold(self, *, sha256: str, on: bool) -> None:
        key = object_key(sha256)
        change = (
            self._client.enable_object_legal_hold if on else self._client.disable_object_legal_hold
        )
        for version_id in await self._versions_or_missing(sha256):
            with _unavailable_on_failure():
                await asyncio.to_thread(change, self.bucket, key, version_id=version_id)
        logger.info("set a legal hold", extra={"sha256": sha256, "on": on})

    async def retention(self, sha256: str) -> list[VersionLock]:
        return [
            await self._lock_of(sha256, version_id)
            for version_id in await self._versions_or_missing(sha256)
        ]

    async def _versions_or_missing(self, sha256: str) -> list[str]:
        versions = await self.versions(sha256)
        if not versions:
            raise _missing(sha256)
        return versions

    async def _lock_of(self, sha256: str, version_id: str) -> VersionLock:
        key = object_key(sha256)

        def read_lock() -> VersionLock:
            with _unavailable_on_failure():
                try:
                    retention = self._client.get_object_retention(
                        self.bucket, key, version_id=version_id
                    )
                except S3Error as exc:
                    if exc.code not in _NO_RETENTION:
                        raise
                    retention = None
                try:
                    held = self._client.is_object_legal_hold_enabled(
                        self.bucket, key, version_id=version_id
                    )
                except S3Error as exc:
                    if exc.code not in _NO_LEGAL_HOLD:
                        raise
                    held = False
            return VersionLock(
                version_id=version_id,
                mode=RetentionMode(retention.mode) if retention else None,
                retain_until=retention.retain_until_date if retention else None,
                legal_hold=held,
            )

        return await asyncio.to_thread(read_lock)


def _strengthened(
    lock: VersionLock, mode: RetentionMode, until: datetime, *, now: datetime, sha256: str
) -> Retention | None:
    """The retention to set so that the version is locked at least in `mode` until `until`;
    None when its lock already does. A lock in force is only ever extended or made stricter."""
    if lock.mode is None or lock.retain_until is None or lock.retain_until <= now:
        if until <= now:
            raise InvalidArgumentError(
                "an object cannot be locked until a moment that has passed",
                reason="RETENTION_IN_THE_PAST",
                metadata={"sha256": sha256, "retain_until": until.isoformat()},
            )
        return Retention(mode.value, until)
    if _STRICTNESS[mode] > _STRICTNESS[lock.mode]:
        # Both servers refuse this change without the bypass header, and with the bypass right
        # the archive's keys could delete GOVERNANCE-locked objects too.
        raise RetentionConflictError(
            f"the object is locked in {lock.mode.value} mode, which cannot become {mode.value}",
            metadata={
                "sha256": sha256,
                "version_id": lock.version_id,
                "mode": lock.mode.value,
                "retain_until": lock.retain_until.isoformat(),
            },
        )
    if lock.retain_until >= until:
        return None
    # The stricter mode in force stays: COMPLIANCE cannot become GOVERNANCE anyway.
    return Retention(lock.mode.value, until)


def _satisfies(lock: VersionLock, mode: RetentionMode, until: datetime) -> bool:
    return (
        lock.mode is not None
        and lock.retain_until is not None
        and _STRICTNESS[lock.mode] >= _STRICTNESS[mode]
        and lock.retain_until >= until
    )


def _missing(sha256: str) -> ObjectMissingError:
    logger.error("the store has lost an object", extra={"sha256": sha256})
    return ObjectMissingError(
        "the object's bytes are missing from the store", metadata={"sha256": sha256}
    )


def _describe(failure: Exception) -> str:
    if isinstance(failure, S3Error):
        return f"{failure.code}: {failure.message}"
    return f"{type(failure).__name__}: {failure}"[:300]


def _release(response: BaseHTTPResponse) -> None:
    response.close()
    response.release_conn()


@contextlib.contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    """The store being unreachable or failing is a retryable condition for the caller."""
    try:
        yield
    except (urllib3.exceptions.HTTPError, ServerError) as exc:
        raise _unavailable(exc) from exc


def _unavailable(exc: Exception) -> UnavailableError:
    logger.warning("the object store failed", extra={"error": repr(exc)})
    return UnavailableError(
        "the object store is unavailable; try again", reason="OBJECT_STORE_UNAVAILABLE"
    )


def _http_client() -> urllib3.PoolManager:
    """The SDK's own client, but a 500 is not retried: the store answers it for bytes it cannot
    read (SeaweedFS after ~13 s of its own retries at a damaged chunk), and five retries of it
    would hold a fixity check or a download for over a minute. Gateways' 502-504 are retried."""
    timeout = 300.0
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=5, backoff_factor=0.2, status_forcelist=[502, 503, 504]),
    )


def _next_page(listing: Iterator[Any], size: int) -> list[Any]:
    # The SDK's listing fetches pages lazily over HTTP: advance it off the event loop.
    return list(itertools.islice(listing, size))


def _read_exactly(response: Any, size: int) -> bytes:
    """Up to `size` bytes; fewer only at the end of the object."""
    parts: list[bytes] = []
    wanted = size
    while wanted:
        part = response.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)
