"""Firing what falls due (ADR 0010, 3): every replica runs the same loop; a row is fired by the
one transaction that locked it (FOR UPDATE SKIP LOCKED), its event written to the outbox in that
same transaction, so a reminder goes out once whatever the number of replicas, and a replica that
dies mid-batch leaves its rows to the next."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_, update

from vanban.contracts.workflow.v1 import events_pb2
from vanban.platform.convert import to_timestamp
from vanban.platform.db import UnitOfWork
from vanban.platform.events.nats import subject
from vanban.workflow.adapters.db.repository import task_from_row
from vanban.workflow.adapters.db.tables import task_due, tasks
from vanban.workflow.adapters.grpc.convert import task_to_pb
from vanban.workflow.domain.due import DueKind
from vanban.workflow.domain.tasks import OPEN_STATES

logger = logging.getLogger(__name__)

SUBJECTS = {
    DueKind.DUE_SOON: subject("workflow", "task", "due_soon"),
    DueKind.OVERDUE: subject("workflow", "task", "overdue"),
}
BATCH = 100


async def fire_due(uow_factory: Callable[[], UnitOfWork], now: datetime) -> int:
    """Fires up to BATCH rows due by `now` in one transaction; how many it took (those of tasks
    closed meanwhile are marked fired without a notice)."""
    async with uow_factory() as uow:
        rows = (
            await uow.session.execute(
                select(task_due.c.task_id, task_due.c.kind, task_due.c.due_at, tasks)
                .join(tasks, tasks.c.id == task_due.c.task_id)
                .where(task_due.c.fired_at.is_(None), task_due.c.due_at <= now)
                .order_by(task_due.c.due_at)
                .limit(BATCH)
                .with_for_update(of=task_due, skip_locked=True)
            )
        ).all()
        fired = 0
        for row in rows:
            if row.state not in OPEN_STATES:
                continue
            fired += 1
            kind = DueKind(row.kind)
            uow.record_event(
                SUBJECTS[kind],
                events_pb2.TaskDue(
                    task=task_to_pb(task_from_row(row)),
                    due_at=to_timestamp(row.due_at),
                    occurred_at=to_timestamp(now),
                    escalate_to=(row.on_behalf_of or row.created_by)
                    if kind is DueKind.OVERDUE
                    else "",
                ),
            )
        if rows:
            taken = [(row.task_id, row.kind) for row in rows]
            await uow.session.execute(
                update(task_due)
                .where(tuple_(task_due.c.task_id, task_due.c.kind).in_(taken))
                .values(fired_at=now)
            )
        await uow.commit()
    if rows:
        # Which replica fired what (each row is fired by one of them).
        logger.info("due tasks fired", extra={"taken": len(rows), "notices": fired})
    return len(rows)


def due_loop(
    uow_factory: Callable[[], UnitOfWork], *, timezone: ZoneInfo, poll_seconds: float
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """The background loop of a replica: fire what is due, then wait `poll_seconds`."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                while await fire_due(uow_factory, datetime.now(timezone)) == BATCH:
                    if stop.is_set():
                        return
            except Exception:
                # A database hiccup must not stop the service; the rows wait for the next turn.
                logger.exception("firing due tasks failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass

    return run
