"""Work dossiers in PostgreSQL (ADR 0010 §8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.workflow.adapters.db.tables import work_dossier_items, work_dossiers
from vanban.workflow.domain.dossiers import Item, ItemKind, WorkDossier


def _dossier(row: Any, items: tuple[Item, ...] = ()) -> WorkDossier:
    return WorkDossier(
        id=row.id,
        title=row.title,
        description=row.description,
        owner=row.owner,
        created_at=row.created_at,
        closed_at=row.closed_at,
        items=items,
    )


class SqlDossiers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, dossier: WorkDossier) -> None:
        await self._session.execute(
            pg_insert(work_dossiers).values(
                id=dossier.id,
                title=dossier.title,
                description=dossier.description,
                owner=dossier.owner,
                created_at=dossier.created_at,
                closed_at=None,
            )
        )

    async def get(self, dossier_id: str, *, lock: bool) -> WorkDossier | None:
        statement = select(work_dossiers).where(work_dossiers.c.id == dossier_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self._session.execute(statement)).first()
        if row is None:
            return None
        i = work_dossier_items.c
        items = await self._session.execute(
            select(work_dossier_items)
            .where(i.dossier_id == dossier_id)
            .order_by(i.added_at, i.kind, i.ref_id)
        )
        return _dossier(
            row,
            tuple(Item(ItemKind(r.kind), r.ref_id, r.note, r.added_by, r.added_at) for r in items),
        )

    async def open_count(self, owner: str) -> int:
        d = work_dossiers.c
        return int(
            (
                await self._session.execute(
                    select(func.count()).where(d.owner == owner, d.closed_at.is_(None))
                )
            ).scalar_one()
        )

    async def of_owner(
        self, owner: str, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[WorkDossier]:
        d = work_dossiers.c
        statement = select(work_dossiers).where(d.owner == owner)
        if after is not None:
            statement = statement.where(tuple_(d.created_at, d.id) < tuple_(*after))
        rows = await self._session.execute(
            statement.order_by(d.created_at.desc(), d.id.desc()).limit(limit)
        )
        return [_dossier(r) for r in rows]

    async def add_item(self, dossier_id: str, item: Item) -> bool:
        added = await self._session.execute(
            pg_insert(work_dossier_items)
            .values(
                dossier_id=dossier_id,
                kind=item.kind.value,
                ref_id=item.ref_id,
                note=item.note,
                added_by=item.added_by,
                added_at=item.added_at,
                secrecy=item.secrecy.value,
            )
            .on_conflict_do_nothing()
            .returning(work_dossier_items.c.ref_id)
        )
        return added.first() is not None

    async def remove_item(self, dossier_id: str, kind: ItemKind, ref_id: str) -> bool:
        i = work_dossier_items.c
        removed = await self._session.execute(
            delete(work_dossier_items)
            .where(i.dossier_id == dossier_id, i.kind == kind.value, i.ref_id == ref_id)
            .returning(i.ref_id)
        )
        return removed.first() is not None

    async def close(self, dossier_id: str, at: datetime) -> None:
        await self._session.execute(
            update(work_dossiers).where(work_dossiers.c.id == dossier_id).values(closed_at=at)
        )
