"""Tables every service keeps in its own database: outbox, processed events, audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Identity,
    LargeBinary,
    MetaData,
    String,
    Table,
)


@dataclass(frozen=True)
class EventTables:
    outbox: Table
    processed: Table
    audit: Table
    # Whether the audit log is a hash chain (vanban.platform.audit_chain).
    chained_audit: bool = False


def event_tables(metadata: MetaData, *, chained_audit: bool = False) -> EventTables:
    """The platform's tables in `metadata`. `chained_audit` makes the audit log tamper-evident:
    every entry carries its hash and its predecessor's (PostgreSQL only)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("subject", String(255), nullable=False),
        Column("event_type", String(255), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("consumer", String(128), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    # Who changed what, when, from what to what, under which trace (DESIGN: identity and access).
    audit = Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("actor", String(128), nullable=False),
        Column("on_behalf_of", String(128), nullable=True),
        Column("action", String(64), nullable=False),
        Column("resource", String(255), nullable=False, index=True),
        Column("before", JSON, nullable=True),
        Column("after", JSON, nullable=True),
        Column("trace_id", String(32), nullable=True),
        *_chain_columns(chained=chained_audit),
    )
    return EventTables(outbox=outbox, processed=processed, audit=audit, chained_audit=chained_audit)


def _chain_columns(*, chained: bool) -> list[Column[str]]:
    if not chained:
        return []
    return [
        Column("previous_hash", String(64), nullable=False),
        Column("entry_hash", String(64), nullable=False),
    ]
