from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

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

# Endpoints of the agency's own systems (webhooks) and what is sent to them.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("event_types", ARRAY(String(64)), nullable=False),
    Column("description", String(500), nullable=False, server_default=""),
    # The HMAC key of the signatures: the platform signs with it, so it is kept as given out.
    Column("secret", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(1000), nullable=False, server_default=""),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # While deliveries fail: since when, how many attempts in a row, and when to try next.
    Column("failing_since", DateTime(timezone=True), nullable=True),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("retry_at", DateTime(timezone=True), nullable=True),
    # One sender at a time per endpoint (of all replicas): it holds the endpoint until then,
    # renewing before each attempt, so deliveries go one by one and in order.
    Column("leased_until", DateTime(timezone=True), nullable=True),
    Column("lease_token", String(36), nullable=True),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "webhook_id",
        String(36),
        ForeignKey("webhooks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    # The CloudEvent exactly as it is sent (signed afresh at each attempt).
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("attempt_count", Integer, nullable=False, server_default="0"),
    UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
)

# The sender's query: an endpoint's pending deliveries, oldest first.
Index(
    "ix_webhook_deliveries_pending",
    webhook_deliveries.c.webhook_id,
    webhook_deliveries.c.created_at,
    postgresql_where=text("state = 'pending'"),
)
# The admin's list: an endpoint's deliveries, newest first.
Index(
    "ix_webhook_deliveries_webhook_created",
    webhook_deliveries.c.webhook_id,
    webhook_deliveries.c.created_at.desc(),
    webhook_deliveries.c.id.desc(),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        String(36),
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("error", String(1000), nullable=False, server_default=""),
    Column("duration_ms", Integer, nullable=False),
)

# What notices say of a document (from the documents' own events): its label, trích yếu, secrecy.
known_documents = Table(
    "known_documents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("direction", String(16), nullable=False),
    Column("label", String(300), nullable=False),
    Column("subject", String(1000), nullable=False),
    Column("secrecy", String(16), nullable=False),
)

# Each person's choices of how notices reach them (absent: the defaults).
notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("person_id", String(128), primary_key=True),
    # {kind: each | digest | off}
    Column("email_modes", JSONB, nullable=False),
    Column("quiet_start", String(5), nullable=True),
    Column("quiet_end", String(5), nullable=True),
    Column("digest_time", String(5), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# E-mails of notices waiting to go, gone, or given up on (the administrator sees why).
email_deliveries = Table(
    "email_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "notification_id",
        String(36),
        ForeignKey("notifications.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("person_id", String(128), nullable=False),
    Column("address", String(320), nullable=False),
    Column("name", String(300), nullable=False, server_default=""),
    Column("mode", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(1000), nullable=False, server_default=""),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    # A sender holds it until then, under its token (another replica's claim takes a new one;
    # the first then records nothing).
    Column("leased_until", DateTime(timezone=True), nullable=True),
    Column("lease_token", String(36), nullable=True),
)

# The sender's query: what is due.
Index(
    "ix_email_deliveries_due",
    email_deliveries.c.due_at,
    postgresql_where=text("state = 'pending'"),
)
# The administrator's list: newest first, by state.
Index(
    "ix_email_deliveries_state_created",
    email_deliveries.c.state,
    email_deliveries.c.created_at.desc(),
)
