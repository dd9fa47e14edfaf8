"""The outbox relay: publishes committed events to JetStream, then removes them.

Each event is published with `Nats-Msg-Id` = its event id, so a relay that crashes after
publishing but before deleting publishes again without creating a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from nats.js import JetStreamContext
from opentelemetry import metrics, propagate, trace
from sqlalchemy import Row, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vanban.platform.events.tables import EventTables

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("vanban.platform.events")


class OutboxRelay:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        tables: EventTables,
        js: JetStreamContext,
        batch_size: int = 100,
        poll_interval: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._tables = tables
        self._js = js
        self._batch = batch_size
        self._poll = poll_interval
        self._wake = asyncio.Event()
        self._depth = 0
        meter = metrics.get_meter("vanban.platform.events")
        self._published = meter.create_counter(
            "vanban.outbox.published", description="Events published"
        )
        self._lag = meter.create_histogram(
            "vanban.outbox.lag", unit="ms", description="Time from commit to publish"
        )
        meter.create_observable_gauge(
            "vanban.outbox.depth",
            callbacks=[lambda _options: [metrics.Observation(self._depth)]],
            description="Events waiting in the outbox",
        )

    def wake(self) -> None:
        """Called after a commit that recorded events, so they leave without waiting for a poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = self._poll
        while True:
            # Cleared before reading the outbox, so a commit during the publish wakes us again.
            self._wake.clear()
            try:
                published = await self.publish_pending()
                backoff = self._poll
                if published:
                    continue  # there may be more
            except Exception as exc:  # NATS or the database away: keep the rows, retry later
                logger.warning("outbox relay could not publish", extra={"error": repr(exc)})
                backoff = min(backoff * 2, 10.0)
            if stop.is_set():
                return
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=backoff, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def publish_pending(self) -> int:
        outbox = self._tables.outbox
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(outbox)
                    .order_by(outbox.c.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                self._depth = 0
                return 0
            for row in rows:
                await self._publish(row)
            await session.execute(delete(outbox).where(outbox.c.id.in_([r.id for r in rows])))
            if len(rows) == self._batch:
                self._depth = (
                    await session.execute(select(func.count()).select_from(outbox))
                ).scalar_one()
            else:
                self._depth = 0
        return len(rows)

    async def _publish(self, row: Row[Any]) -> None:
        # The outbox row's columns (tables.py), as their types.
        subject: str = row.subject
        event_id: str = row.event_id
        event_type: str = row.event_type
        payload: bytes = row.payload
        created_at: datetime = row.created_at
        headers: dict[str, str] = dict(row.headers)
        context = propagate.extract(headers)
        with tracer.start_as_current_span(
            f"{subject} publish",
            context=context,
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": subject,
                "messaging.message.id": event_id,
            },
        ):
            propagate.inject(headers)
            headers.update(
                {
                    "Nats-Msg-Id": event_id,
                    "ce-specversion": "1.0",
                    "ce-id": event_id,
                    "ce-type": event_type,
                    "content-type": "application/protobuf",
                }
            )
            await self._js.publish(subject, payload, headers=headers, timeout=5)
        self._published.add(1, {"subject": subject})
        lag = (datetime.now(UTC) - created_at).total_seconds() * 1000
        self._lag.record(lag, {"subject": subject})
