from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.notify.adapters.db.tables import notifications
from vanban.notify.domain.model import Notification, NotificationKind
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
    )


class SqlNotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_absent(self, notification: Notification) -> bool:
        statement = (
            pg_insert(notifications)
            .values(
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
            )
            .on_conflict_do_nothing(
                index_elements=[notifications.c.source_event_id, notifications.c.recipient_id]
            )
            .returning(notifications.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def list_for_recipient(
        self,
        recipient_id: str,
        *,
        secrecy: Collection[Secrecy],
        before: InboxPosition | None,
        limit: int,
    ) -> list[Notification]:
        # The clearance rule is part of the query, so a page never holds a hidden notice.
        query = select(notifications).where(
            notifications.c.recipient_id == recipient_id,
            notifications.c.secrecy.in_([level.value for level in secrecy]),
        )
        if before is not None:
            query = query.where(
                tuple_(notifications.c.created_at, notifications.c.id)
                < tuple_(before.created_at, before.id)
            )
        query = query.order_by(notifications.c.created_at.desc(), notifications.c.id.desc()).limit(
            limit
        )
        return [_notification(row) for row in await self._session.execute(query)]
