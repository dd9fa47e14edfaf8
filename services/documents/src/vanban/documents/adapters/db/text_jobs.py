"""Text extraction jobs (`text_jobs`, ADR 0009 section 5): queued with their document, claimed
by text workers with SKIP LOCKED, fenced by the attempt number so that a worker whose lease ran
out can no longer write over the one that took the job over.

Lease times are the database's clock (`now()`), so workers on several machines agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from vanban.contracts.documents.v1 import documents_pb2
from vanban.documents.adapters.db.tables import document_texts, documents, text_jobs
from vanban.documents.domain.search_text import BODY_MAX_CHARS, search_terms
from vanban.platform.db import changed_rows

ERROR_MAX_CHARS = 1000  # the `error` column
SUPERSEDED = "superseded by a later version"

_STATES = {
    "queued": documents_pb2.Digitization.STATE_QUEUED,
    "running": documents_pb2.Digitization.STATE_RUNNING,
    "done": documents_pb2.Digitization.STATE_DONE,
    "failed": documents_pb2.Digitization.STATE_FAILED,
}


async def queue_text_job(
    session: AsyncSession, *, document_id: str, sha256: str, now: datetime
) -> str:
    """Queues the extraction of `sha256` (the document's main file, or a draft's new version)
    in the caller's transaction, so there is never a job without its document; its id."""
    job_id = str(uuid.uuid4())
    await session.execute(
        insert(text_jobs).values(
            id=job_id, document_id=document_id, sha256=sha256, state="queued", created_at=now
        )
    )
    return job_id


async def latest_digitization(
    session: AsyncSession, *, document_id: str
) -> documents_pb2.Digitization | None:
    """The document's latest job as the API shows it (`digitization`); None before any."""
    row = (
        await session.execute(
            select(
                text_jobs.c.state,
                text_jobs.c.pages_total,
                text_jobs.c.pages_done,
                text_jobs.c.warnings,
                text_jobs.c.error,
            )
            .where(text_jobs.c.document_id == document_id)
            .order_by(text_jobs.c.created_at.desc(), text_jobs.c.id.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    return documents_pb2.Digitization(
        state=_STATES[row.state],
        pages_total=row.pages_total,
        pages_done=row.pages_done,
        warnings=list(row.warnings or ()),
        error=row.error or "",
    )


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: str
    document_id: str
    sha256: str
    # This claim's attempt (1, 2, 3): the fence every later write of the claim names.
    attempt: int


class LostJobError(Exception):
    """The job is no longer this claim's: its lease ran out and another worker took it."""


def _lease(seconds: float) -> ColumnElement[datetime]:
    return func.now() + timedelta(seconds=seconds)


def _mine(job: ClaimedJob) -> ColumnElement[bool]:
    return and_(
        text_jobs.c.id == job.id,
        text_jobs.c.state == "running",
        text_jobs.c.attempts == job.attempt,
    )


async def fail_abandoned(session: AsyncSession, *, max_attempts: int) -> int:
    """Jobs whose last allowed attempt's lease ran out (the worker died on them each time) end
    'failed'; how many."""
    return await changed_rows(
        session,
        update(text_jobs)
        .where(
            text_jobs.c.state == "running",
            text_jobs.c.locked_until < func.now(),
            text_jobs.c.attempts >= max_attempts,
        )
        .values(
            state="failed",
            error=func.coalesce(text_jobs.c.error, "the text worker stopped during every attempt"),
            locked_until=None,
            finished_at=func.now(),
        ),
    )


def _newer_exists(job: FromClause) -> ColumnElement[bool]:
    """A later job of the same document exists (a later draft version's)."""
    newer = text_jobs.alias("newer")
    return exists().where(
        newer.c.document_id == job.c.document_id,
        or_(
            newer.c.created_at > job.c.created_at,
            and_(newer.c.created_at == job.c.created_at, newer.c.id > job.c.id),
        ),
    )


async def finish_superseded(session: AsyncSession) -> int:
    """Jobs waiting for a worker (queued, or running under a lease that ran out) whose document
    has a later job end 'done' without work, warning that a later version superseded them:
    nobody OCRs a version that can no longer be the document's text. How many."""
    now = func.now()
    waiting = (
        select(text_jobs.c.id)
        .where(
            or_(
                text_jobs.c.state == "queued",
                and_(text_jobs.c.state == "running", text_jobs.c.locked_until < now),
            ),
            _newer_exists(text_jobs),
        )
        .with_for_update(skip_locked=True)
        .correlate(None)
    )
    return await changed_rows(
        session,
        update(text_jobs)
        .where(text_jobs.c.id.in_(waiting))
        .values(
            state="done",
            warnings=[SUPERSEDED],
            error=None,
            locked_until=None,
            finished_at=now,
        ),
    )


async def claim(
    session: AsyncSession, *, lease_seconds: float, max_attempts: int
) -> ClaimedJob | None:
    """Takes the oldest job that is due (queued and not waiting for a retry, or running under
    a lease that ran out) and leases it; None when there is none. Workers skip each other's
    locked rows, so each job goes to one of them."""
    now = func.now()
    due = (
        select(text_jobs.c.id)
        .where(
            or_(
                and_(
                    text_jobs.c.state == "queued",
                    or_(text_jobs.c.locked_until.is_(None), text_jobs.c.locked_until <= now),
                ),
                and_(text_jobs.c.state == "running", text_jobs.c.locked_until < now),
            ),
            text_jobs.c.attempts < max_attempts,
        )
        .order_by(text_jobs.c.created_at, text_jobs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            update(text_jobs)
            .where(text_jobs.c.id == due)
            .values(
                state="running",
                attempts=text_jobs.c.attempts + 1,
                pages_done=0,
                locked_until=_lease(lease_seconds),
            )
            .returning(
                text_jobs.c.id, text_jobs.c.document_id, text_jobs.c.sha256, text_jobs.c.attempts
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return ClaimedJob(
        id=row.id, document_id=row.document_id, sha256=row.sha256, attempt=row.attempts
    )


async def start(
    session: AsyncSession,
    job: ClaimedJob,
    *,
    pages_total: int,
    warnings: list[str],
    lease_seconds: float,
) -> None:
    """Records the page count and the standard's warnings once the file is open."""
    if not await changed_rows(
        session,
        update(text_jobs)
        .where(_mine(job))
        .values(
            pages_total=pages_total,
            pages_done=0,
            warnings=warnings,
            locked_until=_lease(lease_seconds),
        ),
    ):
        raise LostJobError(job.id)


async def progress(
    session: AsyncSession, job: ClaimedJob, *, pages_done: int, lease_seconds: float
) -> None:
    """Records a page done and renews the lease."""
    if not await changed_rows(
        session,
        update(text_jobs)
        .where(_mine(job))
        .values(pages_done=pages_done, locked_until=_lease(lease_seconds)),
    ):
        raise LostJobError(job.id)


async def release(session: AsyncSession, job: ClaimedJob) -> None:
    """Gives the job back untouched (the worker is stopping): queued again, the attempt not
    counted."""
    await session.execute(
        update(text_jobs)
        .where(_mine(job))
        .values(
            state="queued",
            attempts=text_jobs.c.attempts - 1,
            pages_done=0,
            locked_until=None,
        )
    )


async def fail(
    session: AsyncSession,
    job: ClaimedJob,
    *,
    error: str,
    max_attempts: int,
    retry_after_seconds: float,
) -> bool:
    """Records the attempt's error: queued again after `retry_after_seconds`, or 'failed'
    after the last attempt; whether it failed for good."""
    final = job.attempt >= max_attempts
    values: dict[str, object] = {"error": error[:ERROR_MAX_CHARS]}
    if final:
        values.update(state="failed", locked_until=None, finished_at=func.now())
    else:
        values.update(state="queued", locked_until=_lease(retry_after_seconds))
    if not await changed_rows(session, update(text_jobs).where(_mine(job)).values(**values)):
        raise LostJobError(job.id)
    return final


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    # 'ocr' when any page was read by OCR, else 'text_layer'.
    source: str
    # Pages read: all of the file's, or its first ones when it had more than the worker reads.
    pages: int
    # Stored and shown with the job: the standard's (capped) and the reading's.
    warnings: list[str]


async def finish(session: AsyncSession, job: ClaimedJob, *, extracted: Extracted) -> str | None:
    """Marks the job done and, unless a newer job of the same document exists (a later draft
    version), stores the text and refreshes the document's `search_tsv` over its head and the
    normalised body. The document's direction when the text was stored, else None.

    The document's row is locked first, as the archive's destruction of a document locks it
    before it ends the document's jobs (`archive.SqlArchiveRepository.erase_contents`): a job it
    ended is no longer this claim's, and a text stored before it is erased by it."""
    await session.execute(
        select(documents.c.id)
        .where(documents.c.id == job.document_id)
        .with_for_update(key_share=True)
    )
    if not await changed_rows(
        session,
        update(text_jobs)
        .where(_mine(job))
        .values(
            state="done",
            pages_done=extracted.pages,
            warnings=extracted.warnings,
            error=None,
            locked_until=None,
            finished_at=func.now(),
        ),
    ):
        raise LostJobError(job.id)
    current = text_jobs.alias("current")
    superseded = await session.scalar(
        select(exists().where(current.c.id == job.id, _newer_exists(current)))
    )
    if superseded:
        return None
    await session.execute(
        insert(document_texts)
        .values(
            document_id=job.document_id,
            source=extracted.source,
            text=extracted.text,
            extracted_at=func.now(),
        )
        .on_conflict_do_update(
            index_elements=[document_texts.c.document_id],
            set_={
                "source": extracted.source,
                "text": extracted.text,
                "extracted_at": func.now(),
            },
        )
    )
    body = " ".join(search_terms(extracted.text[:BODY_MAX_CHARS]))
    direction = await session.scalar(
        update(documents)
        .where(documents.c.id == job.document_id)
        .values(
            search_tsv=func.to_tsvector(
                literal_column("'simple'::regconfig"), documents.c.search_head + " " + body
            ),
            updated_at=func.now(),
        )
        .returning(documents.c.direction)
    )
    return str(direction) if direction is not None else None
