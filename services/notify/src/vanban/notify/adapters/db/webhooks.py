"""The webhooks, their delivery queue and its attempts, in notify's database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import any_, delete, func, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanban.notify.adapters.db.tables import webhook_attempts, webhook_deliveries, webhooks
from vanban.notify.domain.paging import InboxPosition
from vanban.notify.domain.webhooks import Attempt, Delivery, DeliveryState, Webhook

# Attempts shown with a delivery.
SHOWN_ATTEMPTS = 20
# The advisory lock of webhook registrations (any fixed number of notify's own).
WEBHOOK_CREATE_LOCK = 0x7E5B_0001


def _webhook(row: Any, pending: int = 0) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        event_types=tuple(row.event_types),
        description=row.description,
        secret=row.secret,
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        created_by=row.created_by,
        created_at=row.created_at,
        failing_since=row.failing_since,
        consecutive_failures=row.consecutive_failures,
        retry_at=row.retry_at,
        pending=pending,
    )


def _delivery(row: Any, attempts: tuple[Attempt, ...] = ()) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        event_type=row.event_type,
        body=row.body,
        state=DeliveryState(row.state),
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        attempt_count=row.attempt_count,
        attempts=attempts,
    )


class SqlWebhooks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, webhook: Webhook) -> None:
        await self._session.execute(
            webhooks.insert().values(
                id=webhook.id,
                url=webhook.url,
                event_types=list(webhook.event_types),
                description=webhook.description,
                secret=webhook.secret,
                enabled=webhook.enabled,
                disabled_reason=webhook.disabled_reason,
                created_by=webhook.created_by,
                created_at=webhook.created_at,
            )
        )

    async def all(self) -> list[Webhook]:
        pending = (
            select(webhook_deliveries.c.webhook_id, func.count().label("n"))
            .where(webhook_deliveries.c.state == DeliveryState.PENDING.value)
            .group_by(webhook_deliveries.c.webhook_id)
            .subquery()
        )
        rows = await self._session.execute(
            select(webhooks, func.coalesce(pending.c.n, 0).label("pending"))
            .outerjoin(pending, pending.c.webhook_id == webhooks.c.id)
            .order_by(webhooks.c.created_at, webhooks.c.id)
        )
        return [_webhook(row, row.pending) for row in rows]

    async def get(self, webhook_id: str, *, for_update: bool = False) -> Webhook | None:
        query = select(webhooks).where(webhooks.c.id == webhook_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        pending = await self._session.execute(
            select(func.count()).where(
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.state == DeliveryState.PENDING.value,
            )
        )
        return _webhook(row, int(pending.scalar_one()))

    async def save(self, webhook: Webhook) -> None:
        await self._session.execute(
            update(webhooks)
            .where(webhooks.c.id == webhook.id)
            .values(
                event_types=list(webhook.event_types),
                description=webhook.description,
                enabled=webhook.enabled,
                disabled_reason=webhook.disabled_reason,
                failing_since=webhook.failing_since,
                consecutive_failures=webhook.consecutive_failures,
                retry_at=webhook.retry_at,
            )
        )

    async def remove(self, webhook_id: str) -> bool:
        result = await self._session.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
        return bool(getattr(result, "rowcount", 0))

    async def listening(self, event_type: str) -> list[Webhook]:
        """Endpoints that asked for `event_type`, enabled or not: a disabled endpoint's
        deliveries wait for it to be enabled again."""
        rows = await self._session.execute(
            select(webhooks).where(literal(event_type) == any_(webhooks.c.event_types))
        )
        return [_webhook(row) for row in rows]

    async def enqueue(self, delivery: Delivery) -> bool:
        result = await self._session.execute(
            pg_insert(webhook_deliveries)
            .values(
                id=delivery.id,
                webhook_id=delivery.webhook_id,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                body=delivery.body,
                state=delivery.state.value,
                created_at=delivery.created_at,
            )
            .on_conflict_do_nothing(
                index_elements=[webhook_deliveries.c.webhook_id, webhook_deliveries.c.event_id]
            )
            .returning(webhook_deliveries.c.id)
        )
        return result.first() is not None

    async def due_endpoints(self, now: datetime) -> list[str]:
        """Enabled endpoints with pending deliveries, not backing off, nobody sending to."""
        rows = await self._session.execute(
            select(webhooks.c.id)
            .where(
                webhooks.c.enabled.is_(True),
                (webhooks.c.retry_at.is_(None)) | (webhooks.c.retry_at <= now),
                (webhooks.c.leased_until.is_(None)) | (webhooks.c.leased_until < now),
                select(webhook_deliveries.c.id)
                .where(
                    webhook_deliveries.c.webhook_id == webhooks.c.id,
                    webhook_deliveries.c.state == DeliveryState.PENDING.value,
                )
                .exists(),
            )
            .order_by(webhooks.c.id)
        )
        return [row.id for row in rows]

    async def hold(self, webhook_id: str, token: str, *, now: datetime, lease: timedelta) -> bool:
        """Takes (or, with the same token, renews) the endpoint for `lease`: while it is enabled
        and nobody else holds it."""
        result = await self._session.execute(
            update(webhooks)
            .where(
                webhooks.c.id == webhook_id,
                webhooks.c.enabled.is_(True),
                (webhooks.c.leased_until.is_(None))
                | (webhooks.c.leased_until < now)
                | (webhooks.c.lease_token == token),
            )
            .values(leased_until=now + lease, lease_token=token)
            .returning(webhooks.c.id)
        )
        return result.first() is not None

    async def holds(self, webhook_id: str, token: str) -> bool:
        """Whether `token` still holds the endpoint (its row locked until the transaction ends)."""
        row = (
            await self._session.execute(
                select(webhooks.c.lease_token).where(webhooks.c.id == webhook_id).with_for_update()
            )
        ).first()
        return row is not None and row.lease_token == token

    async def let_go(self, webhook_id: str, token: str) -> None:
        await self._session.execute(
            update(webhooks)
            .where(webhooks.c.id == webhook_id, webhooks.c.lease_token == token)
            .values(leased_until=None, lease_token=None)
        )

    async def pending(self, webhook_id: str, *, limit: int) -> list[Delivery]:
        """The endpoint's pending deliveries, oldest first."""
        rows = await self._session.execute(
            select(webhook_deliveries)
            .where(
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.state == DeliveryState.PENDING.value,
            )
            .order_by(webhook_deliveries.c.created_at, webhook_deliveries.c.id)
            .limit(limit)
        )
        return [_delivery(row) for row in rows]

    async def record_attempt(self, delivery_id: str, attempt: Attempt, *, delivered: bool) -> None:
        values: dict[str, Any] = {"attempt_count": webhook_deliveries.c.attempt_count + 1}
        if delivered:
            values.update(state=DeliveryState.DELIVERED.value, delivered_at=attempt.at)
        await self._session.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(**values)
        )
        await self._session.execute(
            webhook_attempts.insert().values(
                delivery_id=delivery_id,
                at=attempt.at,
                status_code=attempt.status_code,
                error=attempt.error[:1000],
                duration_ms=attempt.duration_ms,
            )
        )

    async def deliveries(
        self, webhook_id: str, *, before: InboxPosition | None, limit: int
    ) -> list[Delivery]:
        query = select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
        if before is not None:
            query = query.where(
                tuple_(webhook_deliveries.c.created_at, webhook_deliveries.c.id)
                < tuple_(before.created_at, before.id)
            )
        rows = (
            await self._session.execute(
                query.order_by(
                    webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc()
                ).limit(limit)
            )
        ).all()
        attempts = await self._attempts_of([row.id for row in rows])
        return [_delivery(row, attempts.get(row.id, ())) for row in rows]

    async def delivery(self, webhook_id: str, delivery_id: str) -> Delivery | None:
        row = (
            await self._session.execute(
                select(webhook_deliveries).where(
                    webhook_deliveries.c.id == delivery_id,
                    webhook_deliveries.c.webhook_id == webhook_id,
                )
            )
        ).first()
        if row is None:
            return None
        return _delivery(row, (await self._attempts_of([row.id])).get(row.id, ()))

    async def replay(self, delivery_id: str) -> None:
        await self._session.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(state=DeliveryState.PENDING.value, delivered_at=None)
        )

    async def _attempts_of(self, delivery_ids: list[str]) -> dict[str, tuple[Attempt, ...]]:
        """The last attempts of each delivery, newest first, in one query."""
        if not delivery_ids:
            return {}
        ranked = (
            select(
                webhook_attempts,
                func.row_number()
                .over(
                    partition_by=webhook_attempts.c.delivery_id,
                    order_by=webhook_attempts.c.id.desc(),
                )
                .label("rank"),
            )
            .where(webhook_attempts.c.delivery_id.in_(delivery_ids))
            .subquery()
        )
        rows = await self._session.execute(
            select(ranked)
            .where(ranked.c.rank <= SHOWN_ATTEMPTS)
            .order_by(ranked.c.delivery_id, ranked.c.id.desc())
        )
        found: dict[str, list[Attempt]] = {}
        for row in rows:
            found.setdefault(row.delivery_id, []).append(
                Attempt(
                    at=row.at,
                    status_code=row.status_code,
                    error=row.error,
                    duration_ms=row.duration_ms,
                )
            )
        return {key: tuple(value) for key, value in found.items()}

    async def lock_for_create(self) -> None:
        """Serialises registrations, so two at once cannot both pass the count."""
        await self._session.execute(select(func.pg_advisory_xact_lock(WEBHOOK_CREATE_LOCK)))
