from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.notify.adapters.db.tables import known_documents, notice_sequences, notifications
from vanban.notify.domain.model import KnownDocument, Notification, NotificationKind
from vanban.notify.domain.paging import InboxPosition
from vanban.platform.clearance import Secrecy


def _notification(row: Any) -> Notification:
    return Notification(
        id=row.id,
        recipient_id=row.recipient_id,
        kind=NotificationKind(row.kind),
        title=row.title,
        body=row.body,
        resource=row.resource,
        created_at=row.created_at,
        source_event_id=row.source_event_id,
        secrecy=Secrecy(row.secrecy),
        read_at=row.read_at,
        sequence=row.sequence,
    )


class SqlNotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_absent(self, notification: Notification) -> Notification | None:
        # The recipient's next number first: it locks their counter row until commit, so a
        # second recording of the same event (another replica) waits here and then finds the
        # notice below, and hands its number back before anyone could see it.
        sequence = await self._next_sequence(notification.recipient_id)
        existing = await self._session.execute(
            select(notifications.c.id).where(
                notifications.c.source_event_id == notification.source_event_id,
                notifications.c.recipient_id == notification.recipient_id,
            )
        )
        if existing.first() is not None:
            await self._session.execute(
                update(notice_sequences)
                .where(notice_sequences.c.recipient_id == notification.recipient_id)
                .values(last_sequence=notice_sequences.c.last_sequence - 1)
            )
            return None
        notification = dataclasses.replace(notification, sequence=sequence)
        statement = pg_insert(notifications).values(
            id=notification.id,
            recipient_id=notification.recipient_id,
            kind=notification.kind.value,
            title=notification.title,
            body=notification.body,
            resource=notification.resource,
            created_at=notification.created_at,
            read_at=notification.read_at,
            source_event_id=notification.source_event_id,
            secrecy=notification.secrecy.value,
            sequence=sequence,
        )
        await self._session.execute(statement)
        return notification

    async def _next_sequence(self, recipient_id: str) -> int:
        statement = (
            pg_insert(notice_sequences)
            .values(recipient_id=recipient_id, last_sequence=1)
            .on_conflict_do_update(
                index_elements=[notice_sequences.c.recipient_id],
                set_={"last_sequence": notice_sequences.c.last_sequence + 1},
            )
            .returning(notice_sequences.c.last_sequence)
        )
        return int((await self._session.execute(statement)).scalar_one())

    async def list_for_recipient(
        self,
        recipient_id: str,
        *,
        secrecy: Collection[Secrecy],
        before: InboxPosition | None,
        limit: int,
        after_sequence: int = 0,
        oldest_first: bool = False,
    ) -> list[Notification]:
        # The clearance rule is part of the query, so a page never holds a hidden notice.
        query = select(notifications).where(
            notifications.c.recipient_id == recipient_id,
            notifications.c.secrecy.in_([level.value for level in secrecy]),
        )
        if oldest_first:
            query = (
                query.where(notifications.c.sequence > after_sequence)
                .order_by(notifications.c.sequence)
                .limit(limit)
            )
            return [_notification(row) for row in await self._session.execute(query)]
        if before is not None:
            query = query.where(
                tuple_(notifications.c.created_at, notifications.c.id)
                < tuple_(before.created_at, before.id)
            )
        query = query.order_by(notifications.c.created_at.desc(), notifications.c.id.desc()).limit(
            limit
        )
        return [_notification(row) for row in await self._session.execute(query)]

    async def mark_read(
        self,
        recipient_id: str,
        notification_id: str,
        *,
        secrecy: Collection[Secrecy],
        now: datetime,
    ) -> Notification | None:
        """The recipient's notice, read since `now` unless it already was; None when they have
        no such notice within their clearance."""
        mine = (
            notifications.c.id == notification_id,
            notifications.c.recipient_id == recipient_id,
            notifications.c.secrecy.in_([level.value for level in secrecy]),
        )
        await self._session.execute(
            update(notifications)
            .where(*mine, notifications.c.read_at.is_(None))
            .values(read_at=now)
        )
        row = (await self._session.execute(select(notifications).where(*mine))).first()
        return _notification(row) if row is not None else None

    async def mark_all_read(
        self, recipient_id: str, *, secrecy: Collection[Secrecy], up_to: int, now: datetime
    ) -> int:
        statement = update(notifications).where(
            notifications.c.recipient_id == recipient_id,
            notifications.c.secrecy.in_([level.value for level in secrecy]),
            notifications.c.read_at.is_(None),
        )
        if up_to > 0:
            statement = statement.where(notifications.c.sequence <= up_to)
        result = await self._session.execute(statement.values(read_at=now))
        return int(getattr(result, "rowcount", 0) or 0)

    async def count_unread(
        self, recipient_id: str, *, secrecy: Collection[Secrecy]
    ) -> tuple[int, int]:
        unread = await self._session.execute(
            select(func.count()).where(
                notifications.c.recipient_id == recipient_id,
                notifications.c.secrecy.in_([level.value for level in secrecy]),
                notifications.c.read_at.is_(None),
            )
        )
        latest = await self._session.execute(
            select(notice_sequences.c.last_sequence).where(
                notice_sequences.c.recipient_id == recipient_id
            )
        )
        return int(unread.scalar_one()), int(latest.scalar_one_or_none() or 0)


class SqlKnownDocuments:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def remember(self, document: KnownDocument) -> None:
        values = {
            "direction": document.direction,
            "label": document.label[:300],
            "subject": document.subject[:1000],
            "secrecy": document.secrecy.value,
        }
        await self._session.execute(
            pg_insert(known_documents)
            .values(id=document.id, **values)
            .on_conflict_do_update(index_elements=[known_documents.c.id], set_=values)
        )

    async def get(self, document_id: str) -> KnownDocument | None:
        row = (
            await self._session.execute(
                select(known_documents).where(known_documents.c.id == document_id)
            )
        ).first()
        if row is None:
            return None
        return KnownDocument(
            id=row.id,
            direction=row.direction,
            label=row.label,
            subject=row.subject,
            secrecy=Secrecy(row.secrecy),
        )
