"""Use cases of the archive: store, read, claim, and collect what nobody claimed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from vanban.archive.domain.errors import (
    ConcurrentCollectionError,
    FixityMismatchError,
    ObjectNotFoundError,
)
from vanban.archive.domain.model import (
    Content,
    FixityCheck,
    StoredObject,
    Upload,
    collection_cutoff,
    object_key,
    validated_sha256,
    validated_upload_id,
)
from vanban.archive.domain.ports import ObjectStore, StoredVersion, Transaction, Transactions

logger = logging.getLogger(__name__)

ORPHAN_BATCH = 500


def _summary(obj: StoredObject) -> dict[str, object]:
    return {"sha256": obj.sha256, "size": obj.size, "content_type": obj.content_type}


async def store_object(
    *,
    transactions: Transactions,
    store: ObjectStore,
    content: Content,
    content_type: str,
    uploaded_by: str,
    now: datetime,
) -> tuple[StoredObject, bool, Upload]:
    """Stores content once: identical content already held is reused, not uploaded again.

    Returns the object, whether this call created it, and the upload (reservation) that holds
    the bytes for `uploaded_by` until released, claimed or expired. The reservation is
    committed before any byte is written, so a release by another upload of the same content
    sees it and keeps the bytes. The upload to the store happens outside any database
    transaction; the row and the `ObjectStored` event are written together after it.
    """
    resource = object_key(content.sha256)
    upload = Upload(
        id=str(uuid.uuid4()), sha256=content.sha256, uploaded_by=uploaded_by, created_at=now
    )
    async with transactions() as tx:
        await tx.objects.lock_content(content.sha256)
        existing = await tx.objects.touch(content.sha256, at=now)
        await tx.uploads.add(upload)
        if existing is not None:
            tx.audit(
                action="object.store",
                resource=resource,
                after={"created": False, "upload_id": upload.id},
            )
            await tx.commit()
            return existing, False, upload
        await tx.commit()

    try:
        version_id = await store.put(
            sha256=content.sha256,
            size=content.size,
            content_type=content_type,
            source=content.spool,
        )
    except BaseException:
        await _end_upload(transactions, upload)
        raise
    obj = StoredObject(
        sha256=content.sha256,
        size=content.size,
        content_type=content_type,
        created_at=now,
        last_put_at=now,
    )
    committing = False
    try:
        async with transactions() as tx:
            if await tx.objects.add(obj):
                tx.record_stored(obj)
                tx.audit(
                    action="object.store",
                    resource=resource,
                    after={**_summary(obj), "created": True, "upload_id": upload.id},
                )
                committing = True
                await tx.commit()
                return obj, True, upload
            # The same content was recorded meanwhile by another call: theirs is the record.
            existing = await tx.objects.touch(content.sha256, at=now)
            if existing is None:
                raise ConcurrentCollectionError(
                    "the object was collected while it was being stored; send it again",
                    metadata={"sha256": content.sha256},
                )
            tx.audit(
                action="object.store",
                resource=resource,
                after={"created": False, "upload_id": upload.id},
            )
            committing = True
            await tx.commit()
    except BaseException:
        # Failed or cancelled before the row could exist: the bytes must not stay behind. Once
        # the commit has started its outcome is unknown, and deleting bytes a committed row
        # points to would lose data; a leftover is collected by the orphan scan instead.
        if not committing:
            await _discard(store, content.sha256, version_id)
            await _end_upload(transactions, upload)
        raise
    await _discard(store, content.sha256, version_id)  # the other call's upload stands
    return existing, False, upload


async def release_upload(
    *,
    transactions: Transactions,
    store: ObjectStore,
    upload_id: str,
    released_by: str,
) -> bool:
    """Gives up an upload whose record was refused; True when its bytes were deleted.

    The bytes go at once unless a record claimed them or another upload still holds them
    (then they stay for that one, and the sweeper takes them if it is never claimed either).
    Only the caller who uploaded may release; an unknown, someone else's or already ended
    upload is left alone, as there is nothing of theirs to give up.
    """
    key = validated_upload_id(upload_id)
    async with transactions() as tx:
        upload = await tx.uploads.get(key)
        if upload is None or upload.uploaded_by != released_by:
            if upload is not None:
                logger.warning(
                    "an upload was released by someone who did not make it",
                    extra={"upload_id": key, "released_by": released_by},
                )
            return False
        # Taken before the row, as store_object does: an upload of the same content either
        # committed its reservation before this (and is seen below), or waits until the
        # bytes are gone and stores them afresh.
        await tx.objects.lock_content(upload.sha256)
        await tx.uploads.remove(upload.id)
        obj = await tx.objects.get(upload.sha256, lock=True)
        held_by_others = await tx.uploads.holding(upload.sha256)
        resource = object_key(upload.sha256)
        deleted = obj is not None and not obj.claimed and held_by_others == 0
        if deleted:
            assert obj is not None
            await store.delete(obj.sha256)
            await tx.objects.remove(obj.sha256)
            tx.audit(
                action="object.release",
                resource=resource,
                before={**_summary(obj), "upload_id": upload.id},
            )
        else:
            if obj is None:
                kept = "not stored"
            elif obj.claimed:
                kept = "claimed"
            else:
                kept = "held by another upload"
            tx.audit(
                action="upload.release",
                resource=resource,
                before={"upload_id": upload.id},
                after={"bytes_kept": kept},
            )
        await tx.commit()
    if deleted:
        logger.info("released and deleted an unclaimed upload", extra={"sha256": upload.sha256})
    return deleted


async def _end_upload(transactions: Transactions, upload: Upload) -> None:
    """Ends the reservation of an upload that failed; left to expire if that fails too."""
    try:
        async with transactions() as tx:
            await tx.uploads.remove(upload.id)
            await tx.commit()
    except Exception:
        logger.exception(
            "could not end the reservation of a failed upload; it expires",
            extra={"upload_id": upload.id},
        )


async def _discard(store: ObjectStore, sha256: str, version_id: str | None) -> None:
    if version_id is None:
        # Without versions the key holds whatever the last upload wrote, perhaps another
        # call's: leave it to the orphan scan.
        return
    try:
        await store.delete_version(sha256=sha256, version_id=version_id)
    except Exception:
        logger.exception(
            "could not remove an unrecorded upload; the orphan scan will",
            extra={"sha256": sha256, "version_id": version_id},
        )


async def stat_object(*, transactions: Transactions, sha256: str) -> StoredObject:
    key = validated_sha256(sha256)
    async with transactions() as tx:
        obj = await tx.objects.get(key)
    if obj is None:
        raise ObjectNotFoundError("no object with this sha256", metadata={"sha256": key})
    if obj.destroyed_at is not None:
        raise ObjectNotFoundError(
            "the object was destroyed by a disposition (hủy tài liệu hết giá trị)",
            reason="OBJECT_DESTROYED",
            metadata={"sha256": key, "destroyed_at": obj.destroyed_at.isoformat()},
        )
    return obj


async def open_object(
    *, transactions: Transactions, store: ObjectStore, sha256: str
) -> tuple[StoredObject, AsyncIterator[bytes]]:
    """The object's record and its bytes, whose SHA-256 is checked once they have all been read."""
    obj = await stat_object(transactions=transactions, sha256=sha256)
    return obj, _verified(obj, store.read(obj.sha256))


async def _verified(obj: StoredObject, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Passes the bytes on, holding the last chunk back until the whole content checks out:
    a corrupted object then never reaches a reader complete, only cut short with an error."""
    check = FixityCheck(sha256=obj.sha256, size=obj.size)
    held: bytes | None = None
    async for chunk in chunks:
        check.feed(chunk)
        if held is not None:
            yield held
        held = chunk
    try:
        check.verify()
    except FixityMismatchError as exc:
        logger.error("fixity check failed on read", extra={"sha256": obj.sha256, **exc.metadata})
        raise
    if held is not None:
        yield held


async def claim_object(*, tx: Transaction, sha256: str, claimed_by: str, now: datetime) -> bool:
    """Marks an object as referred to by a registered record, so that it is kept for good.

    Returns whether this call claimed it; claiming again is harmless.
    """
    key = validated_sha256(sha256, field="document.file.sha256")
    # Under the content's lock, as uploads, releases and a disposition's deletion are: a claim
    # is either seen by a deletion checking its holders, or waits until the bytes are gone.
    await tx.objects.lock_content(key)
    # A claimed object is kept for good: the uploads that held it have nothing left to hold.
    await tx.uploads.remove_for(key)
    if await tx.objects.claim(key, at=now):
        tx.audit(
            action="object.claim",
            resource=object_key(key),
            before={"claimed_at": None},
            after={"claimed_at": now.isoformat(), "claimed_by": claimed_by},
        )
        claimed = True
    elif (held := await tx.objects.get(key)) is None or held.destroyed_at is not None:
        # The record refers to bytes this archive does not hold (never stored, collected
        # because the record came after the grace period, or destroyed by a disposition):
        # someone has to look at it.
        logger.error(
            "a registered record refers to an object the archive does not hold",
            extra={"sha256": key, "claimed_by": claimed_by},
        )
        return False
    else:
        claimed = False
    # Every holder is remembered: a disposition deletes bytes only when all of them are gone.
    await tx.claims.add(key, claimed_by=claimed_by, at=now)
    return claimed


async def collect_unclaimed(
    *,
    transactions: Transactions,
    store: ObjectStore,
    now: datetime,
    ttl: timedelta,
    limit: int = 100,
) -> list[str]:
    """Deletes up to `limit` objects nobody claimed within `ttl` of their last upload.

    Each object is deleted from the store and then from the database while its row is locked,
    so an upload of the same content either waits and stores it afresh, or renews it first.
    """
    cutoff = collection_cutoff(now=now, ttl=ttl)
    collected: list[str] = []
    # Reservations of uploads that never got a row (the uploader stopped before recording).
    async with transactions() as tx:
        await tx.uploads.remove_expired(before=cutoff)
        await tx.commit()
    for _ in range(limit):
        async with transactions() as tx:
            obj = await tx.objects.lock_next_collectable(before=cutoff)
            if obj is None:
                break
            obj.ensure_collectable(now=now, ttl=ttl)
            await store.delete(obj.sha256)
            await tx.objects.remove(obj.sha256)
            # Its uploads are as old as its last upload, so all of them have expired.
            await tx.uploads.remove_for(obj.sha256)
            tx.audit(
                action="object.collect",
                resource=object_key(obj.sha256),
                before={**_summary(obj), "last_put_at": obj.last_put_at.isoformat()},
            )
            await tx.commit()
        logger.info("collected an unclaimed object", extra={"sha256": obj.sha256})
        collected.append(obj.sha256)
    return collected


async def collect_orphans(
    *, transactions: Transactions, store: ObjectStore, now: datetime, ttl: timedelta
) -> list[StoredVersion]:
    """Deletes stored versions older than `ttl` that no database row accounts for.

    They are left by a process that stopped between uploading and recording. Only old versions
    are touched, so an upload in progress (which writes a new version) is never disturbed.
    """
    cutoff = collection_cutoff(now=now, ttl=ttl)
    removed: list[StoredVersion] = []
    batch: list[StoredVersion] = []
    async for version in store.versions_before(cutoff):
        batch.append(version)
        if len(batch) >= ORPHAN_BATCH:
            removed += await _drop_orphans(transactions=transactions, store=store, batch=batch)
            batch = []
    if batch:
        removed += await _drop_orphans(transactions=transactions, store=store, batch=batch)
    return removed


async def _drop_orphans(
    *, transactions: Transactions, store: ObjectStore, batch: list[StoredVersion]
) -> list[StoredVersion]:
    async with transactions() as tx:
        known = await tx.objects.known({v.sha256 for v in batch})
    orphans = [v for v in batch if v.sha256 not in known]
    if not orphans:
        return []
    for version in orphans:
        await store.delete_version(sha256=version.sha256, version_id=version.version_id)
        logger.warning(
            "deleted bytes no record accounts for",
            extra={"sha256": version.sha256, "version_id": version.version_id},
        )
    async with transactions() as tx:
        for version in orphans:
            tx.audit(
                action="object.orphan.delete",
                resource=object_key(version.sha256),
                before={
                    "version_id": version.version_id,
                    "last_modified": version.last_modified.isoformat(),
                },
            )
        await tx.commit()
    return orphans
