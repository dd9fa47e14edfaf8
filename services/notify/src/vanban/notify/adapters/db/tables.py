from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    String,
    Table,
    UniqueConstraint,
    text,
)

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("recipient_id", String(128), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", String(1000), nullable=False),
    Column("resource", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
    Column("source_event_id", String(64), nullable=False),
    # Độ mật of the document the notice is about; the inbox shows it only to those cleared.
    Column("secrecy", String(16), nullable=False, server_default="none"),
    # The notice's place among its recipient's: 1, 2, 3 ... in commit order (see
    # `notice_sequences`): a live stream resumes after the last one it showed.
    Column("sequence", BigInteger, nullable=False),
    # One notice per person per event, whatever redelivers the event.
    UniqueConstraint("source_event_id", "recipient_id", name="uq_notifications_source_recipient"),
    UniqueConstraint("recipient_id", "sequence", name="uq_notifications_recipient_sequence"),
)

# Each recipient's last sequence. Taking the next one locks the row until the transaction ends,
# so a person's notices commit in the order of their numbers, without gaps: whoever has seen
# number n has seen every number below it that will ever exist.
notice_sequences = Table(
    "notice_sequences",
    metadata,
    Column("recipient_id", String(128), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)

# The inbox query: one person's notices, newest first.
Index(
    "ix_notifications_recipient_created",
    notifications.c.recipient_id,
    notifications.c.created_at.desc(),
    notifications.c.id.desc(),
)

# The unread count of a person.
Index(
    "ix_notifications_recipient_unread",
    notifications.c.recipient_id,
    postgresql_where=text("read_at IS NULL"),
)
