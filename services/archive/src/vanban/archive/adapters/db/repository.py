from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.archive.adapters.db.tables import objects, uploads
from vanban.archive.domain.model import StoredObject, Upload
from vanban.platform.db import changed_rows

# The first key of PostgreSQL's two-key advisory locks that stand for content of the archive.
_CONTENT_LOCK = 0x41524348  # "ARCH"


def _to_domain(row: Row) -> StoredObject:
    return StoredObject(
        sha256=row.sha256,
        size=row.size,
        content_type=row.content_type,
        created_at=row.created_at,
        last_put_at=row.last_put_at,
        claimed_at=row.claimed_at,
        destroyed_at=row.destroyed_at,
    )


class SqlObjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, sha256: str, *, lock: bool = False) -> StoredObject | None:
        query = select(objects).where(objects.c.sha256 == sha256)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return None if row is None else _to_domain(row)

    async def lock_content(self, sha256: str) -> None:
        # A transaction-level advisory lock on (archive content, first 32 bits of the hash):
        # it exists before any row does. Two hashes sharing 32 bits only wait for each other.
        key = int(sha256[:8], 16) - 2**31
        await self._session.execute(select(func.pg_advisory_xact_lock(_CONTENT_LOCK, key)))

    async def add(self, obj: StoredObject) -> bool:
        # ON CONFLICT waits for a concurrent insert of the same hash to finish, then skips.
        statement = (
            pg_insert(objects)
            .values(
                sha256=obj.sha256,
                size=obj.size,
                content_type=obj.content_type,
                created_at=obj.created_at,
                last_put_at=obj.last_put_at,
                claimed_at=obj.claimed_at,
            )
            # A row left by a disposition (its bytes destroyed) is the same content stored
            # anew: it starts again as a fresh upload, unclaimed, unlocked, unchecked.
            .on_conflict_do_update(
                index_elements=[objects.c.sha256],
                set_={
                    "size": obj.size,
                    "content_type": obj.content_type,
                    "created_at": obj.created_at,
                    "last_put_at": obj.last_put_at,
                    "claimed_at": obj.claimed_at,
                    "destroyed_at": None,
                    "locked_until": None,
                    "lock_mode": None,
                    "legal_hold": False,
                    "fixity_checked_at": None,
                    "fixity_problem": None,
                },
                where=objects.c.destroyed_at.is_not(None),
            )
            .returning(objects.c.sha256)
        )
        return (await self._session.execute(statement)).first() is not None

    async def touch(self, sha256: str, *, at: datetime) -> StoredObject | None:
        # The UPDATE's row lock makes this wait for a sweeper holding the row; if the sweeper
        # deleted it, nothing is returned and the caller uploads the bytes afresh.
        # Destroyed content is not held: the caller uploads it afresh.
        statement = (
            update(objects)
            .where(objects.c.sha256 == sha256, objects.c.destroyed_at.is_(None))
            .values(last_put_at=at)
            .returning(*objects.c)
        )
        row = (await self._session.execute(statement)).first()
        return None if row is None else _to_domain(row)

    async def claim(self, sha256: str, *, at: datetime) -> bool:
        statement = (
            update(objects)
            .where(
                objects.c.sha256 == sha256,
                objects.c.claimed_at.is_(None),
                objects.c.destroyed_at.is_(None),
            )
            .values(claimed_at=at)
            .returning(objects.c.sha256)
        )
        return (await self._session.execute(statement)).first() is not None

    async def lock_next_collectable(self, *, before: datetime) -> StoredObject | None:
        statement = (
            select(objects)
            .where(objects.c.claimed_at.is_(None), objects.c.last_put_at < before)
            .order_by(objects.c.last_put_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = (await self._session.execute(statement)).first()
        return None if row is None else _to_domain(row)

    async def remove(self, sha256: str) -> None:
        await self._session.execute(delete(objects).where(objects.c.sha256 == sha256))

    async def known(self, sha256s: Collection[str]) -> set[str]:
        if not sha256s:
            return set()
        result = await self._session.execute(
            select(objects.c.sha256).where(objects.c.sha256.in_(list(sha256s)))
        )
        return set(result.scalars())


def _upload(row: Row) -> Upload:
    return Upload(
        id=row.id, sha256=row.sha256, uploaded_by=row.uploaded_by, created_at=row.created_at
    )


class SqlUploadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, upload: Upload) -> None:
        await self._session.execute(
            uploads.insert().values(
                id=upload.id,
                sha256=upload.sha256,
                uploaded_by=upload.uploaded_by,
                created_at=upload.created_at,
            )
        )

    async def get(self, upload_id: str) -> Upload | None:
        row = (
            await self._session.execute(select(uploads).where(uploads.c.id == upload_id))
        ).first()
        return None if row is None else _upload(row)

    async def remove(self, upload_id: str) -> None:
        await self._session.execute(delete(uploads).where(uploads.c.id == upload_id))

    async def holding(self, sha256: str) -> int:
        query = select(func.count()).select_from(uploads).where(uploads.c.sha256 == sha256)
        return int((await self._session.execute(query)).scalar_one())

    async def remove_for(self, sha256: str) -> int:
        return await changed_rows(self._session, delete(uploads).where(uploads.c.sha256 == sha256))

    async def remove_expired(self, *, before: datetime) -> int:
        return await changed_rows(
            self._session, delete(uploads).where(uploads.c.created_at < before)
        )
