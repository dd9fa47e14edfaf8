"""Preferences and the e-mail queue in notify's database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.notify.adapters.db.repository import _notification
from vanban.notify.adapters.db.tables import (
    email_deliveries,
    notification_preferences,
    notifications,
)
from vanban.notify.domain.email import EmailMode, Preferences
from vanban.notify.domain.model import Notification, NotificationKind
from vanban.notify.domain.paging import InboxPosition

PENDING, SENT, FAILED = "pending", "sent", "failed"
# Turned off by the person after it was queued.
CANCELLED = "cancelled"


def _clock(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class QueuedEmail:
    id: str
    person_id: str
    address: str
    name: str
    mode: str
    state: str
    created_at: datetime
    due_at: datetime
    attempts: int
    last_error: str
    sent_at: datetime | None
    notification: Notification


class SqlPreferences:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, person_id: str) -> Preferences:
        row = (
            await self._session.execute(
                select(notification_preferences).where(
                    notification_preferences.c.person_id == person_id
                )
            )
        ).first()
        if row is None:
            return Preferences()
        modes: dict[NotificationKind, EmailMode] = {}
        for kind, mode in dict(row.email_modes).items():
            try:
                modes[NotificationKind(kind)] = EmailMode(mode)
            except ValueError:
                # A kind or mode this version no longer has: its default applies.
                continue
        return Preferences(
            email=modes,
            quiet_start=_time(row.quiet_start),
            quiet_end=_time(row.quiet_end),
            digest_time=_time(row.digest_time) or Preferences().digest_time,
        )

    async def put(self, person_id: str, preferences: Preferences, *, now: datetime) -> None:
        values = {
            "email_modes": {kind.value: mode.value for kind, mode in preferences.email.items()},
            "quiet_start": _clock(preferences.quiet_start),
            "quiet_end": _clock(preferences.quiet_end),
            "digest_time": _clock(preferences.digest_time),
            "updated_at": now,
        }
        await self._session.execute(
            pg_insert(notification_preferences)
            .values(person_id=person_id, **values)
            .on_conflict_do_update(
                index_elements=[notification_preferences.c.person_id], set_=values
            )
        )


def _queued(row: Any) -> QueuedEmail:
    return QueuedEmail(
        id=row.email_id,
        person_id=row.person_id,
        address=row.address,
        name=row.name,
        mode=row.mode,
        state=row.state,
        created_at=row.email_created_at,
        due_at=row.due_at,
        attempts=row.attempts,
        last_error=row.last_error,
        sent_at=row.sent_at,
        notification=_notification(row),
    )


def _joined() -> Any:
    return select(
        notifications,
        email_deliveries.c.id.label("email_id"),
        email_deliveries.c.person_id,
        email_deliveries.c.address,
        email_deliveries.c.name,
        email_deliveries.c.mode,
        email_deliveries.c.state,
        email_deliveries.c.created_at.label("email_created_at"),
        email_deliveries.c.due_at,
        email_deliveries.c.attempts,
        email_deliveries.c.last_error,
        email_deliveries.c.sent_at,
    ).join(notifications, notifications.c.id == email_deliveries.c.notification_id)


class SqlEmails:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(
        self,
        *,
        email_id: str,
        notification_id: str,
        person_id: str,
        address: str,
        name: str,
        mode: EmailMode,
        now: datetime,
        due_at: datetime,
    ) -> None:
        await self._session.execute(
            pg_insert(email_deliveries)
            .values(
                id=email_id,
                notification_id=notification_id,
                person_id=person_id,
                address=address,
                name=name[:300],
                mode=mode.value,
                state=PENDING,
                created_at=now,
                due_at=due_at,
            )
            .on_conflict_do_nothing(index_elements=[email_deliveries.c.notification_id])
        )

    async def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int, token: str
    ) -> list[QueuedEmail]:
        """Due e-mails nobody holds, held under `token` until `now + lease`, with their notices;
        with any, every other due digest e-mail of the same people (a digest is one message)."""
        free = (email_deliveries.c.leased_until.is_(None)) | (email_deliveries.c.leased_until < now)
        due = (email_deliveries.c.state == PENDING) & (email_deliveries.c.due_at <= now) & free
        first = await self._session.execute(
            select(email_deliveries.c.id, email_deliveries.c.person_id)
            .where(due)
            .order_by(email_deliveries.c.due_at, email_deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = first.all()
        if not rows:
            return []
        ids = {row.id for row in rows}
        same_people = await self._session.execute(
            select(email_deliveries.c.id)
            .where(
                due,
                email_deliveries.c.mode == "digest",
                email_deliveries.c.person_id.in_({row.person_id for row in rows}),
            )
            .with_for_update(skip_locked=True)
        )
        ids |= {row.id for row in same_people}
        await self._session.execute(
            update(email_deliveries)
            .where(email_deliveries.c.id.in_(ids))
            .values(leased_until=now + lease, lease_token=token)
        )
        joined = await self._session.execute(
            _joined()
            .where(email_deliveries.c.id.in_(ids))
            .order_by(notifications.c.recipient_id, notifications.c.sequence)
        )
        return [_queued(row) for row in joined]

    async def cancel(self, email_ids: list[str], *, token: str, reason: str) -> None:
        if email_ids:
            await self._session.execute(
                update(email_deliveries)
                .where(
                    email_deliveries.c.id.in_(email_ids), email_deliveries.c.lease_token == token
                )
                .values(state=CANCELLED, leased_until=None, lease_token=None, last_error=reason)
            )

    async def renew(
        self, email_ids: list[str], *, token: str, now: datetime, lease: timedelta
    ) -> bool:
        """Whether `token` still holds every one of them (then for `lease` more)."""
        result = await self._session.execute(
            update(email_deliveries)
            .where(
                email_deliveries.c.id.in_(email_ids),
                email_deliveries.c.lease_token == token,
                email_deliveries.c.state == PENDING,
            )
            .values(leased_until=now + lease)
        )
        return int(getattr(result, "rowcount", 0) or 0) == len(email_ids)

    async def settle(
        self,
        email_ids: list[str],
        *,
        token: str,
        sent_at: datetime | None,
        error: str,
        retry_at: datetime | None,
        give_up: bool,
    ) -> None:
        """Sent; or failed this time, to go again at `retry_at`; or given up on. Only while
        `token` holds them."""
        values: dict[str, Any] = {
            "leased_until": None,
            "lease_token": None,
            "attempts": email_deliveries.c.attempts + 1,
        }
        if sent_at is not None:
            values.update(state=SENT, sent_at=sent_at, last_error="")
        elif give_up:
            values.update(state=FAILED, last_error=error[:1000])
        else:
            values.update(last_error=error[:1000], due_at=retry_at)
        await self._session.execute(
            update(email_deliveries)
            .where(email_deliveries.c.id.in_(email_ids), email_deliveries.c.lease_token == token)
            .values(**values)
        )

    async def listed(
        self, *, state: str | None, before: InboxPosition | None, limit: int
    ) -> list[QueuedEmail]:
        query = _joined()
        if state:
            query = query.where(email_deliveries.c.state == state)
        if before is not None:
            query = query.where(
                tuple_(email_deliveries.c.created_at, email_deliveries.c.id)
                < tuple_(before.created_at, before.id)
            )
        rows = await self._session.execute(
            query.order_by(
                email_deliveries.c.created_at.desc(), email_deliveries.c.id.desc()
            ).limit(limit)
        )
        return [_queued(row) for row in rows]

    async def count(self, state: str) -> int:
        result = await self._session.execute(
            select(func.count()).where(email_deliveries.c.state == state)
        )
        return int(result.scalar_one())
