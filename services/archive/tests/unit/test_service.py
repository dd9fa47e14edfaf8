"""Use cases against in-memory fakes of the database and the object store."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vanban.archive.domain import service
from vanban.archive.domain.errors import (
    FixityMismatchError,
    ObjectMissingError,
    ObjectNotFoundError,
)
from vanban.archive.domain.model import Content, StoredObject, Upload
from vanban.archive.domain.ports import StoredVersion
from vanban.platform.errors import InvalidArgumentError
from vanban.platform.fakes import RecordingTransaction

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=1)


class FakeObjects:
    def __init__(self) -> None:
        self.rows: dict[str, StoredObject] = {}
        # Simulates another call recording the same content between our check and our insert.
        self.inserted_concurrently: StoredObject | None = None
        self.broken = False
        self.locked: list[str] = []

    async def get(self, sha256: str, *, lock: bool = False) -> StoredObject | None:
        return self.rows.get(sha256)

    async def lock_content(self, sha256: str) -> None:
        self.locked.append(sha256)

    async def add(self, obj: StoredObject) -> bool:
        if self.broken:
            raise ConnectionError("database went away")
        if self.inserted_concurrently is not None:
            self.rows[obj.sha256] = self.inserted_concurrently
            self.inserted_concurrently = None
        if obj.sha256 in self.rows:
            return False
        self.rows[obj.sha256] = obj
        return True

    async def touch(self, sha256: str, *, at: datetime) -> StoredObject | None:
        if sha256 not in self.rows:
            return None
        self.rows[sha256] = dataclasses.replace(self.rows[sha256], last_put_at=at)
        return self.rows[sha256]

    async def claim(self, sha256: str, *, at: datetime) -> bool:
        obj = self.rows.get(sha256)
        if obj is None or obj.claimed_at is not None:
            return False
        self.rows[sha256] = dataclasses.replace(obj, claimed_at=at)
        return True

    async def lock_next_collectable(self, *, before: datetime) -> StoredObject | None:
        candidates = sorted(
            (o for o in self.rows.values() if o.claimed_at is None and o.last_put_at < before),
            key=lambda o: o.last_put_at,
        )
        return candidates[0] if candidates else None

    async def remove(self, sha256: str) -> None:
        del self.rows[sha256]

    async def known(self, sha256s: Collection[str]) -> set[str]:
        return set(sha256s) & set(self.rows)


class FakeUploads:
    def __init__(self) -> None:
        self.rows: dict[str, Upload] = {}

    async def add(self, upload: Upload) -> None:
        self.rows[upload.id] = upload

    async def get(self, upload_id: str) -> Upload | None:
        return self.rows.get(upload_id)

    async def remove(self, upload_id: str) -> None:
        self.rows.pop(upload_id, None)

    async def holding(self, sha256: str) -> int:
        return sum(1 for u in self.rows.values() if u.sha256 == sha256)

    async def remove_for(self, sha256: str) -> int:
        gone = [key for key, u in self.rows.items() if u.sha256 == sha256]
        for key in gone:
            del self.rows[key]
        return len(gone)

    async def remove_expired(self, *, before: datetime) -> int:
        gone = [key for key, u in self.rows.items() if u.created_at < before]
        for key in gone:
            del self.rows[key]
        return len(gone)


class FakeClaims:
    def __init__(self) -> None:
        self.rows: set[tuple[str, str]] = set()

    async def add(self, sha256: str, *, claimed_by: str, at: datetime) -> None:
        self.rows.add((sha256, claimed_by))


class FakeTransaction(RecordingTransaction):
    def __init__(self, db: FakeDatabase) -> None:
        # What every transaction commits is audited in the one database.
        super().__init__(audits=db.audit)
        self.objects = db.objects
        self.uploads = db.uploads
        self.claims = db.claims
        self._db = db
        self._events: list[StoredObject] = []

    def record_stored(self, obj: StoredObject) -> None:
        self._events.append(obj)

    async def commit(self) -> None:
        if self._db.commit_fails and self._events:
            raise ConnectionError("connection lost during COMMIT")
        await super().commit()
        self._db.events += self._events
        self._events.clear()


class FakeDatabase:
    def __init__(self) -> None:
        self.objects = FakeObjects()
        self.uploads = FakeUploads()
        self.claims = FakeClaims()
        self.events: list[StoredObject] = []
        self.audit: list[dict[str, object]] = []
        self.commit_fails = False
        self.last_upload: Upload | None = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeTransaction]:
        yield FakeTransaction(self)

    def actions(self) -> list[str]:
        return [str(entry["action"]) for entry in self.audit]


class FakeStore:
    def __init__(self) -> None:
        # sha256 -> versions, oldest first: (version id, bytes, last modified)
        self.versions: dict[str, list[tuple[str, bytes, datetime]]] = {}
        self.puts = 0
        self._ids = itertools.count(1)

    def write(self, sha256: str, data: bytes, *, at: datetime = NOW) -> str:
        version_id = f"v{next(self._ids)}"
        self.versions.setdefault(sha256, []).append((version_id, data, at))
        return version_id

    def contents(self) -> dict[str, list[bytes]]:
        return {sha: [data for _, data, _ in versions] for sha, versions in self.versions.items()}

    async def put(self, *, sha256: str, size: int, content_type: str, source: Path) -> str | None:
        self.puts += 1
        return self.write(sha256, source.read_bytes())  # noqa: ASYNC240 (a fake, tiny file)

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        if not self.versions.get(sha256):
            raise ObjectMissingError("gone")
        data = self.versions[sha256][-1][1]
        for start in range(0, len(data), 4):
            yield data[start : start + 4]

    async def delete(self, sha256: str) -> None:
        self.versions.pop(sha256, None)

    async def versions_before(self, before: datetime) -> AsyncIterator[StoredVersion]:
        for sha256, versions in list(self.versions.items()):
            for version_id, _, modified in versions:
                if modified < before:
                    yield StoredVersion(
                        sha256=sha256, version_id=version_id, last_modified=modified
                    )

    async def delete_version(self, *, sha256: str, version_id: str | None) -> None:
        remaining = [v for v in self.versions.get(sha256, []) if v[0] != version_id]
        if remaining:
            self.versions[sha256] = remaining
        else:
            self.versions.pop(sha256, None)


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


def make_content(tmp_path: Path, data: bytes = b"quyet dinh so 12") -> Content:
    spool = tmp_path / "spool"
    spool.write_bytes(data)
    return Content(sha256=hashlib.sha256(data).hexdigest(), size=len(data), spool=spool)


def make_object(data: bytes = b"to trinh", **overrides: object) -> StoredObject:
    values: dict[str, Any] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "content_type": "application/pdf",
        "created_at": NOW - 2 * TTL,
        "last_put_at": NOW - 2 * TTL,
    }
    values.update(overrides)
    return StoredObject(**values)


async def store_it(
    db: FakeDatabase,
    store: FakeStore,
    content: Content,
    now: datetime = NOW,
    *,
    by: str = "clerk-1",
) -> tuple[StoredObject, bool]:
    obj, created, upload = await service.store_object(
        transactions=db.transaction,
        store=store,
        content=content,
        content_type="application/pdf",
        uploaded_by=by,
        now=now,
    )
    db.last_upload = upload
    return obj, created


class TestStore:
    async def test_new_content_is_uploaded_recorded_announced_and_audited(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        content = make_content(tmp_path)
        obj, created = await store_it(db, store, content)
        assert created
        assert obj.sha256 == content.sha256 and obj.size == content.size
        assert store.contents() == {content.sha256: [b"quyet dinh so 12"]}
        assert db.objects.rows[content.sha256] == obj
        assert db.events == [obj]
        assert db.actions() == ["object.store"]

    async def test_same_content_again_is_not_uploaded_and_renews_its_grace_period(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        content = make_content(tmp_path)
        first, _ = await store_it(db, store, content)
        later = NOW + timedelta(minutes=30)
        again, created = await store_it(db, store, content, now=later)
        assert not created
        assert store.puts == 1
        assert again.created_at == first.created_at
        assert db.objects.rows[content.sha256].last_put_at == later
        assert len(db.events) == 1

    async def test_content_recorded_concurrently_is_reported_as_not_created(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        content = make_content(tmp_path)
        theirs = make_object(b"quyet dinh so 12", created_at=NOW, last_put_at=NOW)
        db.objects.inserted_concurrently = theirs
        store.write(content.sha256, b"quyet dinh so 12")  # their upload
        obj, created = await store_it(db, store, content)
        assert not created
        assert obj.created_at == theirs.created_at
        assert db.events == []
        assert store.puts == 1
        # Our redundant upload is removed; theirs stands.
        assert store.contents() == {content.sha256: [b"quyet dinh so 12"]}

    async def test_an_upload_that_cannot_be_recorded_is_removed(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        db.objects.broken = True
        with pytest.raises(ConnectionError):
            await store_it(db, store, make_content(tmp_path))
        assert store.puts == 1
        assert store.contents() == {}

    async def test_an_upload_whose_commit_may_have_happened_is_kept(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        db.commit_fails = True
        content = make_content(tmp_path)
        with pytest.raises(ConnectionError):
            await store_it(db, store, content)
        # Deleting bytes a committed row might point to would lose data; the orphan scan
        # removes them later if the commit did not happen.
        assert store.contents() == {content.sha256: [b"quyet dinh so 12"]}


class TestRead:
    async def test_intact_bytes_stream_out(self, db: FakeDatabase, store: FakeStore) -> None:
        obj = make_object(b"bien ban hop")
        db.objects.rows[obj.sha256] = obj
        store.write(obj.sha256, b"bien ban hop")
        info, chunks = await service.open_object(
            transactions=db.transaction, store=store, sha256=obj.sha256.upper()
        )
        assert info == obj
        assert b"".join([c async for c in chunks]) == b"bien ban hop"

    async def test_altered_bytes_end_in_data_loss(self, db: FakeDatabase, store: FakeStore) -> None:
        obj = make_object(b"bien ban hop")
        db.objects.rows[obj.sha256] = obj
        store.write(obj.sha256, b"bien ban hoP")
        _, chunks = await service.open_object(
            transactions=db.transaction, store=store, sha256=obj.sha256
        )
        received = []
        with pytest.raises(FixityMismatchError):
            async for chunk in chunks:
                received.append(chunk)
        # The last chunk is held back until the check passes: a reader never gets it whole.
        assert len(b"".join(received)) < obj.size

    async def test_unknown_object_is_not_found(self, db: FakeDatabase, store: FakeStore) -> None:
        with pytest.raises(ObjectNotFoundError):
            await service.open_object(transactions=db.transaction, store=store, sha256="0" * 64)

    async def test_malformed_hash_is_invalid(self, db: FakeDatabase) -> None:
        with pytest.raises(InvalidArgumentError):
            await service.stat_object(transactions=db.transaction, sha256="nope")


class TestClaim:
    async def test_first_claim_marks_and_audits(self, db: FakeDatabase) -> None:
        obj = make_object()
        db.objects.rows[obj.sha256] = obj
        async with db.transaction() as tx:
            assert await service.claim_object(
                tx=tx, sha256=obj.sha256, claimed_by="incoming-documents/1", now=NOW
            )
            assert not await service.claim_object(
                tx=tx, sha256=obj.sha256, claimed_by="incoming-documents/2", now=NOW
            )
            await tx.commit()
        assert db.objects.rows[obj.sha256].claimed_at == NOW
        assert db.actions() == ["object.claim"]
        # Both holders are remembered, so a disposition of one keeps the bytes for the other.
        assert db.claims.rows == {
            (obj.sha256, "incoming-documents/1"),
            (obj.sha256, "incoming-documents/2"),
        }

    async def test_claim_of_unknown_content_changes_nothing(self, db: FakeDatabase) -> None:
        async with db.transaction() as tx:
            assert not await service.claim_object(
                tx=tx, sha256="1" * 64, claimed_by="incoming-documents/1", now=NOW
            )
            await tx.commit()
        assert db.objects.rows == {} and db.audit == [] and db.claims.rows == set()


class TestCollect:
    async def test_only_unclaimed_objects_past_their_grace_period_are_collected(
        self, db: FakeDatabase, store: FakeStore
    ) -> None:
        stale = make_object(b"stale")
        claimed = make_object(b"claimed", claimed_at=NOW - TTL)
        fresh = make_object(b"fresh", last_put_at=NOW - TTL / 2)
        for obj, data in ((stale, b"stale"), (claimed, b"claimed"), (fresh, b"fresh")):
            db.objects.rows[obj.sha256] = obj
            store.write(obj.sha256, data)
        collected = await service.collect_unclaimed(
            transactions=db.transaction, store=store, now=NOW, ttl=TTL
        )
        assert collected == [stale.sha256]
        assert set(db.objects.rows) == {claimed.sha256, fresh.sha256}
        assert set(store.versions) == {claimed.sha256, fresh.sha256}
        assert db.actions() == ["object.collect"]

    async def test_old_bytes_without_a_row_are_deleted_and_others_kept(
        self, db: FakeDatabase, store: FakeStore
    ) -> None:
        recorded = make_object(b"recorded")
        db.objects.rows[recorded.sha256] = recorded
        store.write(recorded.sha256, b"recorded", at=NOW - 2 * TTL)
        orphan = hashlib.sha256(b"orphan").hexdigest()
        store.write(orphan, b"orphan", at=NOW - 2 * TTL)
        in_flight = hashlib.sha256(b"in flight").hexdigest()
        store.write(in_flight, b"in flight", at=NOW - TTL / 2)
        removed = await service.collect_orphans(
            transactions=db.transaction, store=store, now=NOW, ttl=TTL
        )
        assert [v.sha256 for v in removed] == [orphan]
        assert set(store.versions) == {recorded.sha256, in_flight}
        assert db.actions() == ["object.orphan.delete"]


class TestRelease:
    async def release(
        self, db: FakeDatabase, store: FakeStore, upload: Upload | None, *, by: str = "clerk-1"
    ) -> bool:
        assert upload is not None
        return await service.release_upload(
            transactions=db.transaction, store=store, upload_id=upload.id, released_by=by
        )

    async def test_a_released_upload_nobody_else_holds_is_deleted_at_once(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        content = make_content(tmp_path)
        await store_it(db, store, content)
        assert db.uploads.rows  # the upload holds its content
        assert await self.release(db, store, db.last_upload)
        assert store.contents() == {} and db.objects.rows == {} and db.uploads.rows == {}
        assert db.actions() == ["object.store", "object.release"]
        assert content.sha256 in db.objects.locked

    async def test_content_another_upload_holds_is_kept_until_that_one_ends_too(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        content = make_content(tmp_path)
        await store_it(db, store, content, by="clerk-1")
        first = db.last_upload
        await store_it(db, store, content, by="clerk-2")
        second = db.last_upload
        assert not await self.release(db, store, first)
        assert store.contents() == {content.sha256: [b"quyet dinh so 12"]}
        assert await self.release(db, store, second, by="clerk-2")
        assert store.contents() == {} and db.objects.rows == {}

    async def test_claimed_content_is_kept_and_its_uploads_end(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        content = make_content(tmp_path)
        await store_it(db, store, content, by="clerk-1")
        refused = db.last_upload
        await store_it(db, store, content, by="clerk-2")
        async with db.transaction() as tx:
            await service.claim_object(
                tx=tx, sha256=content.sha256, claimed_by="incoming-documents/1", now=NOW
            )
            await tx.commit()
        assert db.uploads.rows == {}
        assert not await self.release(db, store, refused)
        assert store.contents() == {content.sha256: [b"quyet dinh so 12"]}
        # An upload of content claimed before is kept as well when released.
        await store_it(db, store, content, by="clerk-3")
        assert not await self.release(db, store, db.last_upload, by="clerk-3")
        assert content.sha256 in db.objects.rows

    async def test_only_the_uploader_releases_and_twice_is_harmless(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        content = make_content(tmp_path)
        await store_it(db, store, content, by="clerk-1")
        upload = db.last_upload
        assert not await self.release(db, store, upload, by="someone-else")
        assert content.sha256 in db.objects.rows and db.uploads.rows
        assert await self.release(db, store, upload)
        assert not await self.release(db, store, upload)

    async def test_a_malformed_upload_id_is_refused(
        self, db: FakeDatabase, store: FakeStore
    ) -> None:
        with pytest.raises(InvalidArgumentError) as raised:
            await service.release_upload(
                transactions=db.transaction,
                store=store,
                upload_id="objects/../x",
                released_by="clerk-1",
            )
        assert raised.value.reason == "INVALID_UPLOAD_ID"

    async def test_a_failed_upload_holds_nothing(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        db.objects.broken = True
        with pytest.raises(ConnectionError):
            await store_it(db, store, make_content(tmp_path))
        assert db.uploads.rows == {}

    async def test_uploads_expire_with_the_grace_period(
        self, db: FakeDatabase, store: FakeStore, tmp_path: Path
    ) -> None:
        content = make_content(tmp_path)
        await store_it(db, store, content, now=NOW - 2 * TTL)
        fresh = make_content(tmp_path, b"to trinh moi")
        await store_it(db, store, fresh, now=NOW)
        await service.collect_unclaimed(transactions=db.transaction, store=store, now=NOW, ttl=TTL)
        assert [u.sha256 for u in db.uploads.rows.values()] == [fresh.sha256]
        assert set(db.objects.rows) == {fresh.sha256}
