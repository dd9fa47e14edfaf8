"""What the domain needs from the outside, as protocols the adapters implement."""

from __future__ import annotations

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


class Transaction(TransactionPort, Protocol):
    """The unit of work as the domain sees it."""

    @property
    def objects(self) -> ObjectRepository: ...

    @property
    def uploads(self) -> UploadRepository: ...

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
