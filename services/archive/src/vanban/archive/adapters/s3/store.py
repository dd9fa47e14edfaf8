"""The agency bucket through the `minio` SDK (MinIO in production, SeaweedFS locally).

The SDK is synchronous: every call goes through `asyncio.to_thread` so the event loop keeps
serving other RPCs while bytes move.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import urllib3.exceptions
from minio import Minio
from minio.error import S3Error, ServerError

from vanban.archive.domain.errors import ObjectMissingError
from vanban.archive.domain.model import SHA256_RE, object_key
from vanban.archive.domain.ports import StoredVersion
from vanban.platform.errors import UnavailableError

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 256 * 1024
PREFIX = "objects/"
LIST_PAGE = 1000
_MISSING = {"NoSuchKey", "NoSuchVersion", "NoSuchObject"}
_BUCKET_TAKEN = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


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
            Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure),
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

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        try:
            with _unavailable_on_failure():
                response = await asyncio.to_thread(
                    self._client.get_object, self.bucket, object_key(sha256)
                )
        except S3Error as exc:
            if exc.code in _MISSING:
                logger.error("the store has lost an object", extra={"sha256": sha256})
                raise ObjectMissingError(
                    "the object's bytes are missing from the store",
                    metadata={"sha256": sha256},
                ) from None
            raise
        try:
            while True:
                chunk = await asyncio.to_thread(_read_exactly, response, READ_CHUNK_BYTES)
                if not chunk:
                    break
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def delete(self, sha256: str) -> None:
        # Versioned bucket: a plain delete would only add a delete marker and keep the bytes.
        key = object_key(sha256)

        def remove_all() -> None:
            for item in self._client.list_objects(self.bucket, prefix=key, include_version=True):
                if item.object_name == key:
                    self._client.remove_object(self.bucket, key, version_id=item.version_id)

        await asyncio.to_thread(remove_all)

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


@contextlib.contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    """The store being unreachable or failing is a retryable condition for the caller."""
    try:
        yield
    except (urllib3.exceptions.HTTPError, ServerError) as exc:
        logger.warning("the object store failed", extra={"error": repr(exc)})
        raise UnavailableError(
            "the object store is unavailable; try again", reason="OBJECT_STORE_UNAVAILABLE"
        ) from exc


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
