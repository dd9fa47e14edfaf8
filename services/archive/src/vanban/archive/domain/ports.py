"""What the domain needs from the outside, as protocols the adapters implement."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from vanban.archive.domain.model import StoredObject, Upload
from vanban.platform.ports import TransactionPort


class ObjectRepository(Protocol):
    async def get(self, sha256: str, *, lock: bool = False) -> StoredObject | None:
        """The row; with `lock`, locked until the transaction ends."""

    async def lock_content(self, sha256: str) -> None:
        """Serialises, until the transaction ends, every transaction that reserves or releases
        this content (also before any row for it exists)."""

    async def add(self, obj: StoredObject) -> bool:
        """Inserts the row; False (and no change) when the content is already recorded."""

    async def touch(self, sha256: str, *, at: datetime) -> StoredObject | None:
        """Marks the content as uploaded again at `at`; waits for a collection in progress."""

    async def claim(self, sha256: str, *, at: datetime) -> bool:
        """Sets `claimed_at` if the object exists and is not yet claimed; True when it did."""

    async def lock_next_collectable(self, *, before: datetime) -> StoredObject | None:
        """One unclaimed object last uploaded before `before`, locked until the transaction ends;
        rows another transaction holds are skipped."""

    async def remove(self, sha256: str) -> None: ...

    async def known(self, sha256s: Collection[str]) -> set[str]:
        """Which of these hashes have a row."""


class UploadRepository(Protocol):
    async def add(self, upload: Upload) -> None: ...

    async def get(self, upload_id: str) -> Upload | None: ...

    async def remove(self, upload_id: str) -> None: ...

    async def holding(self, sha256: str) -> int:
        """How many uploads still hold this content."""

    async def remove_for(self, sha256: str) -> int:
        """Ends every upload of this content; how many there were."""

    async def remove_expired(self, *, before: datetime) -> int:
        """Ends every upload made before `before`; how many there were."""


class Claims(Protocol):
    async def add(self, sha256: str, *, claimed_by: str, at: datetime) -> None:
        """Remembers that `claimed_by` holds the object (again: no change)."""


class Transaction(TransactionPort, Protocol):
    """The unit of work as the domain sees it."""

    @property
    def objects(self) -> ObjectRepository: ...

    @property
    def uploads(self) -> UploadRepository: ...

    @property
    def claims(self) -> Claims: ...

    def record_stored(self, obj: StoredObject) -> None: ...


Transactions = Callable[[], AbstractAsyncContextManager[Transaction]]


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One version of one key found in the object store."""

    sha256: str
    version_id: str | None
    last_modified: datetime


class ObjectStore(Protocol):
    """The agency bucket. Version ids identify one upload of a key; None where the store keeps
    no versions."""

    async def put(self, *, sha256: str, size: int, content_type: str, source: Path) -> str | None:
        """Uploads the bytes and returns the version id of this upload.

        If the call is cancelled, whatever it had written is removed before it returns.
        """

    def read(self, sha256: str) -> AsyncIterator[bytes]:
        """Streams the bytes; raises ObjectMissingError when the store has none."""

    async def delete(self, sha256: str) -> None:
        """Removes every version of the object; succeeds when there is nothing to remove."""

    def versions_before(self, before: datetime) -> AsyncIterator[StoredVersion]:
        """Every version under `objects/` last modified before `before`."""

    async def delete_version(self, *, sha256: str, version_id: str | None) -> None: ...


class RetentionMode(enum.StrEnum):
    """S3 object-lock modes. COMPLIANCE: nobody, not even the store's administrator, shortens or
    lifts the lock before it ends. GOVERNANCE: keys allowed to bypass it (the administrator's)
    can, with the `x-amz-bypass-governance-retention` header; the archive's own keys cannot."""

    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


@dataclass(frozen=True, slots=True)
class VersionLock:
    """The object lock of one version as the store reports it. `retain_until` stays reported
    after it has passed, when the lock no longer holds."""

    version_id: str
    mode: RetentionMode | None
    retain_until: datetime | None
    legal_hold: bool

    def holds(self, *, at: datetime) -> bool:
        """Whether the store refuses to delete this version at `at`."""
        return self.legal_hold or (self.retain_until is not None and self.retain_until > at)


class LockableObjectStore(ObjectStore, Protocol):
    """The agency bucket with S3 object lock: handed-over objects become write-once (WORM), so
    that not even the archive's own keys delete them before their retention ends.

    Locks are per version. A delete without a version id does not remove a locked version but
    adds a delete marker, after which the key reads as missing: reads therefore find the bytes
    by version. Version ids are "null" for a version written while the bucket kept no versions.
    """

    def read(self, sha256: str, *, version_id: str | None = None) -> AsyncIterator[bytes]:
        """Streams the bytes of `version_id`, or of the newest version holding bytes (a delete
        marker does not hide them). Raises ObjectMissingError when the store has none, and
        ObjectUnreadableError when it holds them but cannot read them back."""

    async def versions(self, sha256: str) -> list[str]:
        """The ids of the versions holding this object's bytes, newest first; delete markers
        are left out."""

    async def protect(self, *, sha256: str, mode: str, retain_until: datetime) -> list[str]:
        """Locks every version in `mode` (a RetentionMode) until at least `retain_until`, and
        returns their ids.

        A lock already in place is never weakened: the later date and the stricter mode win, as
        an object may belong to several dossiers. Raises RetentionConflictError when a version
        is locked in GOVERNANCE and COMPLIANCE is asked, ObjectMissingError when the object has
        no version. Stores keep whole seconds.
        """

    async def set_legal_hold(self, *, sha256: str, on: bool) -> None:
        """Puts on or lifts a legal hold on every version: while on, no version is deleted,
        whatever its retention."""

    async def retention(self, sha256: str) -> list[VersionLock]:
        """The lock of every version holding bytes, newest first."""
