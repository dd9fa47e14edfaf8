"""Objects of the archive: content-addressed bytes and the rules that keep them whole."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from vanban.archive.domain.errors import (
    ClaimedObjectError,
    EmptyObjectError,
    FixityMismatchError,
    ObjectTooLargeError,
    SizeMismatchError,
)
from vanban.platform.errors import InvalidArgumentError, invalid_fields
from vanban.platform.stored_files import (
    CONTENT_TYPE_MAX,
    DEFAULT_CONTENT_TYPE,
    FILE_NAME_MAX,
    is_media_type,
)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def object_key(sha256: str) -> str:
    """Where the bytes live in the agency bucket."""
    return f"objects/{sha256}"


def validated_sha256(value: str, *, field: str = "sha256") -> str:
    """Accepts a lower-case hex SHA-256; upper-case hex is normalised, anything else refused."""
    candidate = value.strip().lower()
    if not SHA256_RE.match(candidate):
        raise InvalidArgumentError(
            f"{field} must be a hex SHA-256 (64 characters)",
            reason="INVALID_SHA256",
            metadata={"field": field},
        )
    return candidate


@dataclass(frozen=True, slots=True)
class ObjectHeader:
    """What the sender says about the file before its bytes arrive."""

    content_type: str
    file_name: str
    declared_size: int

    def validated(self, *, max_bytes: int) -> ObjectHeader:
        """Defaults the content type, checks every field, and refuses a declared size over the limit."""
        content_type = self.content_type.strip() or DEFAULT_CONTENT_TYPE
        file_name = self.file_name.strip()
        problems: dict[str, str] = {}
        if len(content_type) > CONTENT_TYPE_MAX:
            problems["header.content_type"] = f"must be at most {CONTENT_TYPE_MAX} characters"
        elif not is_media_type(content_type):
            problems["header.content_type"] = "must be a media type such as application/pdf"
        if len(file_name) > FILE_NAME_MAX:
            problems["header.file_name"] = f"must be at most {FILE_NAME_MAX} characters"
        if self.declared_size < 0:
            problems["header.declared_size"] = "cannot be negative"
        if problems:
            raise invalid_fields(problems, reason="INVALID_OBJECT_HEADER")
        if self.declared_size > max_bytes:
            raise ObjectTooLargeError.for_limit(max_bytes)
        return ObjectHeader(
            content_type=content_type, file_name=file_name, declared_size=self.declared_size
        )


@dataclass(frozen=True, slots=True)
class Content:
    """Bytes received in full and measured, waiting in a spool file to be stored."""

    sha256: str
    size: int
    spool: Path


class ContentMeter:
    """Hashes and counts an incoming stream, and stops it as soon as it breaks a limit.

    `declared_size` 0 means the sender did not announce a size.
    """

    def __init__(self, *, max_bytes: int, declared_size: int = 0) -> None:
        self._max = max_bytes
        self._declared = declared_size
        self._hash = hashlib.sha256()
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        size = self.size + len(chunk)
        if size > self._max:
            raise ObjectTooLargeError.for_limit(self._max)
        if self._declared and size > self._declared:
            raise SizeMismatchError.for_sizes(declared=self._declared, received=size)
        self._hash.update(chunk)
        self.size = size

    def finish(self) -> tuple[str, int]:
        """The SHA-256 and size of everything fed, once the stream has ended."""
        if self.size == 0:
            raise EmptyObjectError("the object has no content", reason="EMPTY_OBJECT")
        if self._declared and self.size != self._declared:
            raise SizeMismatchError.for_sizes(declared=self._declared, received=self.size)
        return self._hash.hexdigest(), self.size


class FixityCheck:
    """Recomputes the SHA-256 of bytes read back and compares it with the recorded one."""

    def __init__(self, *, sha256: str, size: int) -> None:
        self._expected_sha256 = sha256
        self._expected_size = size
        self._hash = hashlib.sha256()
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self._size += len(chunk)

    def verify(self) -> None:
        actual = self._hash.hexdigest()
        if actual != self._expected_sha256 or self._size != self._expected_size:
            raise FixityMismatchError(
                "the stored bytes no longer match their SHA-256",
                reason="FIXITY_MISMATCH",
                metadata={
                    "sha256": self._expected_sha256,
                    "actual_sha256": actual,
                    "expected_size": str(self._expected_size),
                    "actual_size": str(self._size),
                },
            )


@dataclass(frozen=True, slots=True)
class StoredObject:
    """A file held by the archive (tệp lưu trữ), identified by the SHA-256 of its content.

    An object is *claimed* once a registered document refers to it; a claimed object is kept for
    good. An unclaimed one is collected `ttl` after its content was last uploaded.
    """

    sha256: str
    size: int
    content_type: str
    created_at: datetime
    last_put_at: datetime
    claimed_at: datetime | None = None
    # Destroyed by a disposition (hủy): the bytes are gone, the row stays as the record of it.
    destroyed_at: datetime | None = None

    @property
    def claimed(self) -> bool:
        return self.claimed_at is not None

    def collectable(self, *, now: datetime, ttl: timedelta) -> bool:
        return not self.claimed and self.last_put_at + ttl <= now

    def ensure_collectable(self, *, now: datetime, ttl: timedelta) -> None:
        """Refuses to collect a claimed or still-fresh object, whatever a query returned."""
        if self.claimed:
            raise ClaimedObjectError(
                "a claimed object is never deleted",
                reason="OBJECT_CLAIMED",
                metadata={"sha256": self.sha256},
            )
        if not self.collectable(now=now, ttl=ttl):
            raise ClaimedObjectError(
                "the object is still within its unclaimed grace period",
                reason="OBJECT_NOT_EXPIRED",
                metadata={"sha256": self.sha256},
            )


def validated_upload_id(value: str) -> str:
    """An upload id as PutObject gave it out (a UUID); anything else is refused."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise InvalidArgumentError(
            "upload_id must be the id PutObject answered with", reason="INVALID_UPLOAD_ID"
        ) from None


@dataclass(frozen=True, slots=True)
class Upload:
    """One upload of some content: a reservation that holds those bytes for the caller who sent
    them until they release it (their record was refused), a record claims the content, or the
    unclaimed grace period ends.

    Content is stored once however often it is uploaded, so the bytes may be deleted on release
    only when no other upload still holds them and nothing claimed them: another request may
    have sent the same file and be about to register it, its claim still on its way.
    """

    id: str
    sha256: str
    uploaded_by: str
    created_at: datetime


def collection_cutoff(*, now: datetime, ttl: timedelta) -> datetime:
    """Unclaimed objects last uploaded before this moment are collected."""
    return now - ttl
