"""Async SQLAlchemy 2.0: engine, session factory and the unit of work.

Repositories never commit; the unit of work does, and it writes the events recorded during the
work into the outbox inside the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, cast

from google.protobuf.message import Message
from opentelemetry import propagate, trace
from sqlalchemy import CursorResult, MetaData, insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.dml import UpdateBase

from vanban.platform import audit_chain
from vanban.platform.events.tables import EventTables

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, echo=echo
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def changed_rows(session: AsyncSession, statement: UpdateBase) -> int:
    """Runs an INSERT, UPDATE or DELETE in the session and answers how many rows it changed (an
    UPDATE: matched). The session answers such a statement with a `CursorResult`, whose
    `rowcount` this is; `AsyncSession.execute`'s signature only says `Result`."""
    result = await session.execute(statement)
    return cast("CursorResult[Any]", result).rowcount


@dataclass(frozen=True)
class RecordedEvent:
    event_id: str
    subject: str
    message: Message
    headers: dict[str, str] = field(default_factory=dict)


class UnitOfWork:
    """One business transaction: `async with uow_factory() as uow: ...; await uow.commit()`.

    Leaving the block without `commit()` rolls back, so a failure never half-writes.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        tables: EventTables,
        source: str,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self.tables = tables
        self._source = source
        self._on_commit = on_commit
        self._events: list[RecordedEvent] = []
        self._audit: list[dict[str, object]] = []
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        await self.session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    def record_event(self, subject: str, message: Message, *, event_id: str | None = None) -> str:
        """Queues an event; it is written to the outbox by `commit()` with the state change."""
        headers: dict[str, str] = {}
        propagate.inject(headers)  # traceparent of the work that caused the event
        recorded = RecordedEvent(
            event_id=event_id or str(uuid.uuid4()),
            subject=subject,
            message=message,
            headers=headers,
        )
        self._events.append(recorded)
        return recorded.event_id

    def audit(
        self,
        *,
        actor: str,
        action: str,
        resource: str,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
        on_behalf_of: str | None = None,
    ) -> None:
        """Queues an audit entry, written by `commit()` in the same transaction."""
        span_context = trace.get_current_span().get_span_context()
        self._audit.append(
            {
                "occurred_at": datetime.now(UTC),
                "actor": actor,
                "on_behalf_of": on_behalf_of,
                "action": action,
                "resource": resource,
                "before": before,
                "after": after,
                "trace_id": format(span_context.trace_id, "032x")
                if span_context.is_valid
                else None,
            }
        )

    async def commit(self) -> None:
        if self._events:
            now = datetime.now(UTC)
            await self.session.execute(
                insert(self.tables.outbox),
                [
                    {
                        "event_id": e.event_id,
                        "subject": e.subject,
                        "event_type": e.message.DESCRIPTOR.full_name,
                        "payload": e.message.SerializeToString(),
                        "headers": {
                            **e.headers,
                            "ce-source": self._source,
                            "ce-time": now.isoformat(),
                        },
                        "created_at": now,
                    }
                    for e in self._events
                ],
            )
        # The audit log last: a chained log is locked from here to the end of the commit only.
        if self._audit:
            await self._write_audit()
        await self.session.commit()
        had_events = bool(self._events)
        self._events.clear()
        if had_events and self._on_commit:
            self._on_commit()

    async def _write_audit(self) -> None:
        entries: list[dict[str, object]] = self._audit
        if self.tables.chained_audit:
            head = await audit_chain.lock_head(self.session, self.tables.audit)
            entries = audit_chain.chain(entries, head=head)
        await self.session.execute(insert(self.tables.audit), entries)
        self._audit.clear()


UnitOfWorkFactory = Callable[[], UnitOfWork]
