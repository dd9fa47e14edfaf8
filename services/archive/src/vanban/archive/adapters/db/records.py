"""Dossier lists, dossiers and dispositions in the archive's database."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Row, and_, delete, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.archive.adapters.db.tables import (
    disposition_dossiers,
    dispositions,
    dossier_documents,
    dossier_list_entries,
    dossiers,
    object_claims,
    objects,
)
from vanban.archive.domain.dossier_list import ListEntry
from vanban.archive.domain.records import (
    Disposition,
    DispositionItem,
    DispositionState,
    DocumentKind,
    Dossier,
    DossierDocument,
    DossierFile,
    DossierState,
    Keeping,
)
from vanban.platform.clearance import Clearance


def _file_out(file: DossierFile) -> dict[str, Any]:
    return {
        "sha256": file.sha256,
        "size": file.size,
        "content_type": file.content_type,
        "file_name": file.file_name,
    }


def _file_in(data: dict[str, Any]) -> DossierFile:
    return DossierFile(
        sha256=str(data["sha256"]),
        size=int(data["size"]),
        content_type=str(data["content_type"]),
        file_name=str(data.get("file_name", "")),
    )


async def _grouped(
    session: AsyncSession, key: Column[str], value: Column[str], keys: Collection[str]
) -> dict[str, set[str]]:
    """Each of `keys` that has rows → the set of its `value`s."""
    if not keys:
        return {}
    rows = await session.execute(select(key, value).where(key.in_(list(keys))))
    grouped: dict[str, set[str]] = {}
    for found, held in rows.tuples():
        grouped.setdefault(found, set()).add(held)
    return grouped


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# The advisory lock fixity runs take their objects under (see claim_fixity_due).
_FIXITY_CLAIM_LOCK = 0x46495859  # "FIXY"

# The first key of the advisory locks on a year's dossier list (the second is the year).
_LIST_LOCK = 0x4C495354  # "LIST"


class SqlDossierListRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_year(self, year: int) -> None:
        # An advisory lock: it exists before the year has any row to lock.
        await self._session.execute(select(func.pg_advisory_xact_lock(_LIST_LOCK, year)))

    async def entries(
        self, year: int, *, lock: bool = False
    ) -> list[tuple[ListEntry, datetime | None, str | None]]:
        """Every entry of the year in code order, with its approval; with `lock`, locked until
        the transaction ends (an import against a dossier being opened from one of them)."""
        query = (
            select(dossier_list_entries)
            .where(dossier_list_entries.c.year == year)
            .order_by(dossier_list_entries.c.code)
        )
        if lock:
            query = query.with_for_update()
        rows = await self._session.execute(query)
        return [(_entry(row), row.approved_at, row.approved_by) for row in rows]

    async def get(
        self, year: int, code: str, *, lock: bool = False
    ) -> tuple[ListEntry, datetime | None] | None:
        query = select(dossier_list_entries).where(
            dossier_list_entries.c.year == year, dossier_list_entries.c.code == code
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return None if row is None else (_entry(row), row.approved_at)

    async def upsert(self, entries: Sequence[ListEntry], *, by: str, at: datetime) -> int:
        """Adds or replaces entries; an entry replaced goes back to awaiting approval. Returns
        how many were new."""
        if not entries:
            return 0
        year = entries[0].year
        existing = {
            row.code
            for row in await self._session.execute(
                select(dossier_list_entries.c.code).where(
                    dossier_list_entries.c.year == year,
                    dossier_list_entries.c.code.in_([e.code for e in entries]),
                )
            )
        }
        statement = pg_insert(dossier_list_entries).values(
            [
                {
                    "year": e.year,
                    "code": e.code,
                    "title": e.title,
                    "retention": e.retention,
                    "retention_years": e.retention_years,
                    "access": e.access,
                    "creator_unit": e.creator_unit,
                    "responsible": e.responsible,
                    "responsible_id": e.responsible_id,
                    "notes": e.notes,
                    "imported_by": by,
                    "imported_at": at,
                    "approved_by": None,
                    "approved_at": None,
                }
                for e in entries
            ]
        )
        excluded = statement.excluded
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[dossier_list_entries.c.year, dossier_list_entries.c.code],
                set_={
                    name: getattr(excluded, name)
                    for name in (
                        "title",
                        "retention",
                        "retention_years",
                        "access",
                        "creator_unit",
                        "responsible",
                        "responsible_id",
                        "notes",
                        "imported_by",
                        "imported_at",
                        "approved_by",
                        "approved_at",
                    )
                },
            )
        )
        return len(entries) - len(existing)

    async def approve(self, year: int, *, by: str, at: datetime) -> list[str]:
        """Approves every entry of the year not yet approved; their codes."""
        rows = await self._session.execute(
            update(dossier_list_entries)
            .where(
                dossier_list_entries.c.year == year,
                dossier_list_entries.c.approved_at.is_(None),
            )
            .values(approved_by=by, approved_at=at)
            .returning(dossier_list_entries.c.code)
        )
        return sorted(row.code for row in rows)

    async def opened(self, year: int) -> dict[str, str]:
        """Code of entry → id of the dossier opened from it this year."""
        rows = await self._session.execute(
            select(dossiers.c.list_code, dossiers.c.id).where(dossiers.c.year == year)
        )
        return {row.list_code: row.id for row in rows}


def _entry(row: Row) -> ListEntry:
    return ListEntry(
        year=row.year,
        code=row.code,
        title=row.title,
        retention=row.retention,
        retention_years=row.retention_years,
        access=row.access,
        creator_unit=row.creator_unit,
        responsible=row.responsible,
        notes=row.notes,
        responsible_id=row.responsible_id,
    )


class SqlDossierRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, dossier_id: str, *, lock: bool = False) -> Dossier | None:
        query = select(dossiers).where(dossiers.c.id == dossier_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        documents = await self._session.execute(
            select(dossier_documents)
            .where(dossier_documents.c.dossier_id == dossier_id)
            .order_by(dossier_documents.c.position)
        )
        return _dossier(row, tuple(_document(d) for d in documents))

    async def add(self, dossier: Dossier) -> bool:
        """False (nothing written) when the entry already has its dossier."""
        statement = (
            pg_insert(dossiers)
            .values(**_dossier_row(dossier))
            .on_conflict_do_nothing()
            .returning(dossiers.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def save(self, dossier: Dossier) -> None:
        """Writes the dossier's fields and makes its documents those it holds."""
        row = _dossier_row(dossier)
        row.pop("id")
        await self._session.execute(update(dossiers).where(dossiers.c.id == dossier.id).values(row))
        held = {d.document_id for d in dossier.documents}
        await self._session.execute(
            delete(dossier_documents).where(
                dossier_documents.c.dossier_id == dossier.id,
                dossier_documents.c.document_id.not_in(held) if held else true(),
            )
        )
        if dossier.documents:
            statement = pg_insert(dossier_documents).values(
                [
                    _document_row(dossier.id, position, document)
                    for position, document in enumerate(dossier.documents, start=1)
                ]
            )
            await self._session.execute(
                statement.on_conflict_do_update(
                    index_elements=[
                        dossier_documents.c.dossier_id,
                        dossier_documents.c.document_id,
                    ],
                    set_={"position": statement.excluded.position},
                )
            )

    async def page(
        self,
        *,
        year: int,
        state: DossierState | None,
        handover_before: date | None,
        after: tuple[str, str] | None,
        limit: int,
    ) -> list[Dossier]:
        """Newest first by (opened_at, id); without their documents."""
        query = select(dossiers)
        if year:
            query = query.where(dossiers.c.year == year)
        if state is not None:
            query = query.where(dossiers.c.state == state.value)
        if handover_before is not None:
            # Closed, with the work ended before this day: due for handover within the window.
            query = query.where(
                dossiers.c.state == DossierState.CLOSED.value,
                dossiers.c.end_date <= handover_before,
            )
        if after is not None:
            opened_at, dossier_id = after
            moment = datetime.fromisoformat(opened_at)
            query = query.where(
                or_(
                    dossiers.c.opened_at < moment,
                    and_(dossiers.c.opened_at == moment, dossiers.c.id < dossier_id),
                )
            )
        rows = await self._session.execute(
            query.order_by(dossiers.c.opened_at.desc(), dossiers.c.id.desc()).limit(limit)
        )
        return [_dossier(row, ()) for row in rows]

    async def due_for_warning(self, *, ended_before: date, limit: int) -> list[str]:
        rows = await self._session.execute(
            select(dossiers.c.id)
            .where(
                dossiers.c.state == DossierState.CLOSED.value,
                dossiers.c.handover_warned_at.is_(None),
                dossiers.c.end_date <= ended_before,
            )
            .limit(limit)
        )
        return [row.id for row in rows]

    async def past_retention(self, *, ended_before: date) -> list[str]:
        """Closed or handed-over dossiers, not permanent, whose end date is before
        `ended_before` (a coarse filter: the domain decides each)."""
        rows = await self._session.execute(
            select(dossiers.c.id).where(
                dossiers.c.state.in_((DossierState.CLOSED.value, DossierState.HANDED_OVER.value)),
                dossiers.c.retention_years.is_not(None),
                dossiers.c.end_date <= ended_before,
            )
        )
        return [row.id for row in rows]

    async def holding(self, document_ids: Collection[str]) -> dict[str, set[str]]:
        """Document id → the dossiers that hold it (disposed ones included)."""
        return await _grouped(
            self._session,
            dossier_documents.c.document_id,
            dossier_documents.c.dossier_id,
            document_ids,
        )

    async def held_files(self, *, excluding: str) -> set[str]:
        rows = await self._session.execute(
            select(dossier_documents.c.files, dossiers.c.handover_record)
            .join(dossiers, dossiers.c.id == dossier_documents.c.dossier_id)
            .where(dossiers.c.legal_hold.is_(True), dossiers.c.id != excluding)
        )
        held: set[str] = set()
        for row in rows:
            held |= {str(f["sha256"]) for f in row.files}
            if row.handover_record:
                held.add(str(row.handover_record["sha256"]))
        return held

    async def states(self, dossier_ids: Collection[str]) -> dict[str, DossierState]:
        if not dossier_ids:
            return {}
        rows = await self._session.execute(
            select(dossiers.c.id, dossiers.c.state).where(dossiers.c.id.in_(list(dossier_ids)))
        )
        return {row.id: DossierState(row.state) for row in rows}


def _dossier_row(dossier: Dossier) -> dict[str, Any]:
    return {
        "id": dossier.id,
        "year": dossier.year,
        "list_code": dossier.list_code,
        "file_code": dossier.file_code,
        "title": dossier.title,
        "retention": dossier.retention,
        "retention_years": dossier.retention_years,
        "access": dossier.access,
        "creator_unit": dossier.creator_unit,
        "responsible": dossier.responsible,
        "responsible_id": dossier.responsible_id,
        "language": dossier.language,
        "description": dossier.description,
        "state": dossier.state.value,
        "start_date": dossier.start_date,
        "end_date": dossier.end_date,
        "doc_total": dossier.doc_total,
        "page_total": dossier.page_total,
        "secrecy": dossier.secrecy.value,
        "opened_by": dossier.opened_by,
        "opened_at": dossier.opened_at,
        "closed_by": dossier.closed_by,
        "closed_at": dossier.closed_at,
        "handed_over_by": dossier.handed_over_by,
        "handed_over_at": dossier.handed_over_at,
        "handover_record": _file_out(dossier.handover_record) if dossier.handover_record else None,
        "handover_warned_at": dossier.handover_warned_at,
        "legal_hold": dossier.legal_hold,
        "hold_reason": dossier.hold_reason,
        "disposed_at": dossier.disposed_at,
        "disposition_id": dossier.disposition_id,
    }


def _dossier(row: Row, documents: tuple[DossierDocument, ...]) -> Dossier:
    return Dossier(
        id=row.id,
        year=row.year,
        list_code=row.list_code,
        file_code=row.file_code,
        title=row.title,
        retention=row.retention,
        retention_years=row.retention_years,
        access=row.access,
        creator_unit=row.creator_unit,
        responsible=row.responsible,
        responsible_id=row.responsible_id,
        opened_by=row.opened_by,
        opened_at=row.opened_at,
        state=DossierState(row.state),
        description=row.description,
        language=row.language,
        start_date=row.start_date,
        end_date=row.end_date,
        doc_total=row.doc_total,
        page_total=row.page_total,
        secrecy=Clearance(row.secrecy),
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        handed_over_at=row.handed_over_at,
        handed_over_by=row.handed_over_by,
        handover_record=_file_in(row.handover_record) if row.handover_record else None,
        handover_warned_at=row.handover_warned_at,
        legal_hold=row.legal_hold,
        hold_reason=row.hold_reason,
        disposed_at=row.disposed_at,
        disposition_id=row.disposition_id,
        documents=documents,
    )


def _document_row(dossier_id: str, position: int, document: DossierDocument) -> dict[str, Any]:
    return {
        "dossier_id": dossier_id,
        "document_id": document.document_id,
        "position": position,
        "kind": document.kind.value,
        "identifier": document.identifier,
        "code_number": document.code_number,
        "code_notation": document.code_notation,
        "issued_date": document.issued_date,
        "issuer_name": document.issuer_name,
        "document_type": document.document_type,
        "subject": document.subject,
        "page_amount": document.page_amount,
        "secrecy": document.secrecy.value,
        "files": [_file_out(f) for f in document.files],
        "added_by": document.added_by,
        "added_at": document.added_at,
    }


def _document(row: Row) -> DossierDocument:
    return DossierDocument(
        kind=DocumentKind(row.kind),
        document_id=row.document_id,
        identifier=row.identifier,
        code_number=row.code_number,
        code_notation=row.code_notation,
        issued_date=row.issued_date,
        issuer_name=row.issuer_name,
        document_type=row.document_type,
        subject=row.subject,
        page_amount=row.page_amount,
        secrecy=Clearance(row.secrecy),
        files=tuple(_file_in(f) for f in row.files),
        added_by=row.added_by,
        added_at=row.added_at,
    )


class SqlDispositionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, disposition: Disposition) -> None:
        await self._session.execute(dispositions.insert().values(**_disposition_row(disposition)))
        await self._session.execute(
            disposition_dossiers.insert(),
            [
                {"dossier_id": item.dossier_id, "disposition_id": disposition.id}
                for item in disposition.items
            ],
        )

    async def proposed_elsewhere(self, dossier_ids: Collection[str]) -> dict[str, str]:
        """Dossier → the undecided or approved proposal that already holds it."""
        if not dossier_ids:
            return {}
        rows = await self._session.execute(
            select(disposition_dossiers).where(
                disposition_dossiers.c.dossier_id.in_(list(dossier_ids))
            )
        )
        return {row.dossier_id: row.disposition_id for row in rows}

    async def get(self, disposition_id: str, *, lock: bool = False) -> Disposition | None:
        query = select(dispositions).where(dispositions.c.id == disposition_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return None if row is None else _disposition(row)

    async def save(self, disposition: Disposition) -> None:
        row = _disposition_row(disposition)
        row.pop("id")
        await self._session.execute(
            update(dispositions).where(dispositions.c.id == disposition.id).values(row)
        )
        if disposition.state in (DispositionState.REFUSED, DispositionState.EXECUTED):
            # Its dossiers are free for another proposal (refused) or gone (executed).
            await self._session.execute(
                delete(disposition_dossiers).where(
                    disposition_dossiers.c.disposition_id == disposition.id
                )
            )

    async def page(self, *, after: tuple[str, str] | None, limit: int) -> list[Disposition]:
        query = select(dispositions)
        if after is not None:
            proposed_at, disposition_id = after
            moment = datetime.fromisoformat(proposed_at)
            query = query.where(
                or_(
                    dispositions.c.proposed_at < moment,
                    and_(dispositions.c.proposed_at == moment, dispositions.c.id < disposition_id),
                )
            )
        rows = await self._session.execute(
            query.order_by(dispositions.c.proposed_at.desc(), dispositions.c.id.desc()).limit(limit)
        )
        return [_disposition(row) for row in rows]


def _item_out(item: DispositionItem) -> dict[str, Any]:
    return {
        "dossier_id": item.dossier_id,
        "file_code": item.file_code,
        "title": item.title,
        "retention": item.retention,
        "retention_years": item.retention_years,
        "end_date": item.end_date.isoformat() if item.end_date else None,
        "retention_ends": item.retention_ends.isoformat() if item.retention_ends else None,
        "doc_total": item.doc_total,
        "page_total": item.page_total,
    }


def _item_in(data: dict[str, Any]) -> DispositionItem:
    years = data.get("retention_years")
    return DispositionItem(
        dossier_id=str(data["dossier_id"]),
        file_code=str(data["file_code"]),
        title=str(data["title"]),
        retention=str(data["retention"]),
        retention_years=None if years is None else int(years),
        end_date=_day(data.get("end_date")),
        retention_ends=_day(data.get("retention_ends")),
        doc_total=int(data["doc_total"]),
        page_total=int(data["page_total"]),
    )


def _disposition_row(disposition: Disposition) -> dict[str, Any]:
    return {
        "id": disposition.id,
        "state": disposition.state.value,
        "reason": disposition.reason,
        "proposed_by": disposition.proposed_by,
        "proposed_at": disposition.proposed_at,
        "decided_by": disposition.decided_by,
        "decided_at": disposition.decided_at,
        "decision_note": disposition.decision_note,
        "executed_by": disposition.executed_by,
        "executed_at": disposition.executed_at,
        "record": _file_out(disposition.record) if disposition.record else None,
        "items": [_item_out(i) for i in disposition.items],
    }


def _disposition(row: Row) -> Disposition:
    return Disposition(
        id=row.id,
        reason=row.reason,
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        items=tuple(_item_in(i) for i in row.items),
        state=DispositionState(row.state),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
        executed_by=row.executed_by,
        executed_at=row.executed_at,
        record=_file_in(row.record) if row.record else None,
    )


class SqlClaimRepository:
    """Who keeps each object, and how it is kept (lock, hold, fixity, destruction)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, sha256: str, *, claimed_by: str, at: datetime) -> None:
        await self._session.execute(
            pg_insert(object_claims)
            .values(sha256=sha256, claimed_by=claimed_by[:160], claimed_at=at)
            .on_conflict_do_nothing()
        )

    async def holders(self, sha256s: Collection[str]) -> dict[str, set[str]]:
        return await _grouped(
            self._session, object_claims.c.sha256, object_claims.c.claimed_by, sha256s
        )

    async def by(self, claimers: Collection[str]) -> set[str]:
        """Every object any of these holders keeps."""
        if not claimers:
            return set()
        rows = await self._session.execute(
            select(object_claims.c.sha256).where(object_claims.c.claimed_by.in_(list(claimers)))
        )
        return {row.sha256 for row in rows}

    async def keeping(self, sha256s: Collection[str]) -> dict[str, Keeping]:
        if not sha256s:
            return {}
        rows = await self._session.execute(
            select(
                objects.c.sha256, objects.c.size, objects.c.locked_until, objects.c.legal_hold
            ).where(objects.c.sha256.in_(list(sha256s)), objects.c.destroyed_at.is_(None))
        )
        return {
            row.sha256: Keeping(
                size=row.size, locked_until=row.locked_until, legal_hold=row.legal_hold
            )
            for row in rows
        }

    async def mark_locked(self, sha256s: Collection[str], *, until: datetime, mode: str) -> None:
        if not sha256s:
            return
        await self._session.execute(
            update(objects)
            .where(
                objects.c.sha256.in_(list(sha256s)),
                or_(objects.c.locked_until.is_(None), objects.c.locked_until < until),
            )
            .values(locked_until=until, lock_mode=mode)
        )

    async def set_hold(self, sha256s: Collection[str], *, on: bool) -> None:
        if sha256s:
            await self._session.execute(
                update(objects).where(objects.c.sha256.in_(list(sha256s))).values(legal_hold=on)
            )

    async def claim_fixity_due(
        self, *, share: float, maximum: int, now: datetime
    ) -> list[tuple[str, int]]:
        # Runs take their objects one after another: a run's snapshot then always shows what
        # the run before it took (marked checked, so last in line). SKIP LOCKED alone is not
        # enough: a row another run took after this statement's snapshot would be returned
        # again once its lock was released.
        await self._session.execute(select(func.pg_advisory_xact_lock(_FIXITY_CLAIM_LOCK)))
        kept = and_(objects.c.claimed_at.is_not(None), objects.c.destroyed_at.is_(None))
        total = int(
            (
                await self._session.execute(select(func.count()).select_from(objects).where(kept))
            ).scalar_one()
        )
        wanted = min(maximum, max(1, math.ceil(total * share))) if total else 0
        if not wanted:
            return []
        rows = (
            await self._session.execute(
                select(objects.c.sha256, objects.c.size)
                .where(kept)
                .order_by(objects.c.fixity_checked_at.asc().nulls_first(), objects.c.sha256)
                .limit(wanted)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            # Taken: the next run (this replica's or another's) goes on with the ones after.
            await self._session.execute(
                update(objects)
                .where(objects.c.sha256.in_([row.sha256 for row in rows]))
                .values(fixity_checked_at=now)
            )
        return [(row.sha256, row.size) for row in rows]

    async def release_fixity(self, sha256s: Collection[str], *, claimed_at: datetime) -> None:
        await self._session.execute(
            update(objects)
            .where(objects.c.sha256.in_(list(sha256s)), objects.c.fixity_checked_at == claimed_at)
            .values(fixity_checked_at=None)
        )

    async def record_fixity(self, sha256: str, *, at: datetime, problem: str | None) -> None:
        await self._session.execute(
            update(objects)
            .where(objects.c.sha256 == sha256)
            .values(fixity_checked_at=at, fixity_problem=problem)
        )

    async def mark_destroyed(self, sha256s: Collection[str], *, at: datetime) -> None:
        if sha256s:
            await self._session.execute(
                update(objects)
                .where(objects.c.sha256.in_(list(sha256s)), objects.c.destroyed_at.is_(None))
                .values(destroyed_at=at)
            )
            # Content stored again later starts with its new holders only.
            await self._session.execute(
                delete(object_claims).where(object_claims.c.sha256.in_(list(sha256s)))
            )
