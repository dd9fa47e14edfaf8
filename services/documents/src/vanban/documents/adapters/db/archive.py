"""The agency archive's records of documents (`document_archive`), and what a destruction takes
away with the files: the extracted text and the body words of the search vector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, any_, bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from vanban.documents.adapters.db.tables import (
    document_archive,
    document_texts,
    documents,
    text_jobs,
)
from vanban.documents.domain.model import ArchiveRecord
from vanban.documents.domain.ports import Held

DESTROYED_JOB_ERROR = "the document's files were destroyed by a disposition of the archive"


def archive_record(row: Row[*tuple[Any, ...]]) -> ArchiveRecord | None:
    """The record a row joined to `document_archive` holds; None when the document has none."""
    if row.archived_at is None:
        return None
    return ArchiveRecord(
        dossier_id=row.dossier_id,
        archived_at=row.archived_at,
        destroyed_at=row.destroyed_at,
        disposition_id=row.disposition_id or "",
    )


ARCHIVE_COLUMNS = (
    document_archive.c.dossier_id,
    document_archive.c.archived_at,
    document_archive.c.destroyed_at,
    document_archive.c.disposition_id,
)


async def archive_of(session: AsyncSession, document_id: str) -> ArchiveRecord | None:
    """The document's record, read by a statement of its own: after the document's row was
    locked, it sees a mark committed while the lock was awaited."""
    row = (
        await session.execute(
            select(*ARCHIVE_COLUMNS).where(document_archive.c.document_id == document_id)
        )
    ).first()
    return None if row is None else archive_record(row)


def _among(column: ColumnElement[str], ids: Sequence[str]) -> ColumnElement[bool]:
    # One array parameter, not one parameter per id: a mark names up to 10 000 documents.
    return column == any_(bindparam(None, list(ids), type_=ARRAY(documents.c.id.type)))


class SqlArchiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, document_ids: Sequence[str]) -> dict[str, Held]:
        if not document_ids:
            return {}
        d = documents.c
        locked = (
            await self._session.execute(
                select(d.id, d.direction)
                .where(_among(d.id, document_ids))
                .order_by(d.id)
                .with_for_update()
            )
        ).all()
        # Read after the locks are held: a mark that committed meanwhile is seen.
        records = await self._session.execute(
            select(document_archive.c.document_id, *ARCHIVE_COLUMNS).where(
                _among(document_archive.c.document_id, document_ids)
            )
        )
        by_id = {row.document_id: archive_record(row) for row in records}
        return {row.id: Held(row.direction, by_id.get(row.id)) for row in locked}

    async def add(self, records: Mapping[str, ArchiveRecord]) -> None:
        if not records:
            return
        await self._session.execute(
            insert(document_archive),
            [
                {
                    "document_id": document_id,
                    "dossier_id": record.dossier_id,
                    "archived_at": record.archived_at,
                    "destroyed_at": record.destroyed_at,
                    "disposition_id": record.disposition_id or None,
                }
                for document_id, record in records.items()
            ],
        )

    async def destroy(self, records: Mapping[str, ArchiveRecord]) -> None:
        # One statement per disposition and instant: a call makes one of each.
        by_disposition: dict[tuple[str, datetime | None], list[str]] = {}
        for document_id, record in records.items():
            key = (record.disposition_id, record.destroyed_at)
            by_disposition.setdefault(key, []).append(document_id)
        a = document_archive.c
        for (disposition_id, destroyed_at), ids in by_disposition.items():
            await self._session.execute(
                update(document_archive)
                .where(_among(a.document_id, ids), a.destroyed_at.is_(None))
                .values(destroyed_at=destroyed_at, disposition_id=disposition_id)
            )

    async def erase_contents(self, document_ids: Sequence[str]) -> None:
        if not document_ids:
            return
        # The jobs first: a worker holding one loses it (its writes name the running attempt)
        # and stores no text; one that finished first had its text stored, deleted next. The
        # text worker locks the document's row before it stores a text, as this transaction
        # has, so the two never wait for each other in a cycle.
        await self._session.execute(
            update(text_jobs)
            .where(
                _among(text_jobs.c.document_id, document_ids),
                text_jobs.c.state.in_(("queued", "running")),
            )
            .values(
                state="failed",
                error=DESTROYED_JOB_ERROR,
                locked_until=None,
                finished_at=func.now(),
            )
        )
        erased = (
            (
                await self._session.execute(
                    delete(document_texts)
                    .where(_among(document_texts.c.document_id, document_ids))
                    .returning(document_texts.c.document_id)
                )
            )
            .scalars()
            .all()
        )
        if erased:
            await self._session.execute(
                update(documents)
                .where(_among(documents.c.id, erased))
                .values(
                    search_tsv=func.to_tsvector(
                        literal_column("'simple'::regconfig"), documents.c.search_head
                    )
                )
            )
