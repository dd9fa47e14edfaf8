"""The exchange service's database (ADR 0012): what was sent and received, where each delivery
stands, the business statuses both ways, and the hash chain of evidence. The bytes themselves
(signed packages and status messages, the files a package brought) are in the archive."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import (
    true as sa_true,
)
from sqlalchemy.dialects.postgresql import JSONB

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

# Every package and status message sent or received, as signed bytes in the archive.
packages = Table(
    "packages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("direction", String(8), nullable=False),
    Column("kind", String(8), nullable=False),
    # The transport's id of a received message (the same on every redelivery).
    Column("message_id", String(200), nullable=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    # Whether the bytes are in the archive: what was refused before its signature held is
    # recorded by its digest and size only (another agency cannot fill the archive).
    Column("kept", Boolean, nullable=False, server_default=sa_true()),
    # The edXML DocumentId the package carries or the status refers to.
    Column("document_id", String(100), nullable=True),
    # The other agency: the sender of what was received, the recipient of a status sent; a
    # document package sent to several agencies names none (its transmissions do).
    Column("counterpart", String(13), nullable=True),
    # The outgoing document a sent document package carries.
    Column("outgoing_document_id", String(36), nullable=True, index=True),
    Column("business_doc_type", SmallInteger, nullable=True),
    Column("evidence_sequence", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("direction IN ('sent', 'received')", name="direction"),
    CheckConstraint("kind IN ('document', 'status', 'unknown')", name="kind"),
    # A redelivered message is recognised by its id: received once.
    Index(
        "uq_packages_received_message",
        "message_id",
        unique=True,
        postgresql_where=text("direction = 'received'"),
    ),
    # An outgoing document leaves as one new-document package, however often it is asked.
    Index(
        "uq_packages_sent_document",
        "outgoing_document_id",
        unique=True,
        postgresql_where=text("direction = 'sent' AND kind = 'document' AND business_doc_type = 0"),
    ),
)

# One package to one recipient over the transport: retried until the axis acknowledges it.
transmissions = Table(
    "transmissions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("package_id", String(36), nullable=False, index=True),
    Column("recipient", String(13), nullable=False),
    Column("recipient_name", String(200), nullable=False, server_default=""),
    # Nats-Msg-Id: the same on every attempt, so the axis drops repeats.
    Column("message_id", String(200), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", String(500), nullable=True),
    Column("reference", String(200), nullable=True),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The W3C trace context of the work that made the package (ADR 0012 §10): every attempt is
    # a span under it, and carries its own context to the recipient. None before it was kept.
    Column("trace_parent", String(55), nullable=True),
    Column("trace_state", String(512), nullable=True),
    CheckConstraint("state IN ('pending', 'acknowledged', 'failed')", name="state"),
    UniqueConstraint("package_id", "recipient"),
    Index(
        "ix_transmissions_due",
        "next_attempt_at",
        postgresql_where=text("state = 'pending'"),
    ),
)

# A document package that arrived: the clerk registers or rejects it.
inbox = Table(
    "inbox",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("package_id", String(36), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("sender_id", String(13), nullable=False),
    Column("sender_name", String(200), nullable=False),
    Column("document_id", String(100), nullable=False),
    Column("business_doc_type", SmallInteger, nullable=False),
    # What the package says (số, ký hiệu, dates, type, trích yếu, signer, ...), as read.
    Column("fields", JSONB, nullable=False),
    # FileRefs of the main file and the attachments, stored in the archive.
    Column("file", JSONB, nullable=True),
    Column("attachments", JSONB, nullable=False),
    Column("signer_certificate", String(1000), nullable=False, server_default=""),
    Column("signer_certificate_sha256", String(64), nullable=False, server_default=""),
    Column("incoming_document_id", String(36), nullable=True),
    Column("reason", String(500), nullable=True),
    Column("duplicate_of", String(36), nullable=True),
    # Set when a clerk starts registering it: from then on it is registered (documents'
    # registration is idempotent by the item), never rejected.
    Column("registration_started_at", DateTime(timezone=True), nullable=True),
    # The sender asked to take it back (13), and the clerk's answer (15 agreed, 16 refused).
    Column("recall_reason", String(2000), nullable=True),
    Column("recall_requested_at", DateTime(timezone=True), nullable=True),
    Column("recall_answer", String(8), nullable=True),
    Column("recall_answer_reason", String(500), nullable=True),
    Column("recall_answered_by", String(128), nullable=True),
    Column("recall_answered_at", DateTime(timezone=True), nullable=True),
    Column("handled_by", String(128), nullable=True),
    Column("handled_at", DateTime(timezone=True), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # The W3C traceparent of its receiving (in the sender's trace, when the sender sent one):
    # the clerk's registration or rejection links to it (ADR 0012 §10).
    Column("trace_parent", String(55), nullable=True),
    CheckConstraint(
        "state IN ('received', 'registered', 'rejected', 'refused', 'duplicate')", name="state"
    ),
    CheckConstraint("recall_answer IN ('agreed', 'refused')", name="recall_answer"),
    Index("ix_inbox_received_at", "received_at"),
    # A DocumentId from one sender becomes one incoming document, however often it comes.
    Index(
        "uq_inbox_live_document",
        "sender_id",
        "document_id",
        unique=True,
        postgresql_where=text("state IN ('received', 'registered') AND business_doc_type = 0"),
    ),
)

# Business statuses (edXML StatusCode), received about the packages sent and sent about the
# packages received.
statuses = Table(
    "statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    # The status message itself (its signed bytes).
    Column("package_id", String(36), nullable=False, unique=True),
    Column("direction", String(8), nullable=False),
    # The document package it is about: a sent one (received statuses) or a received one.
    Column("about_package_id", String(36), nullable=True, index=True),
    Column("counterpart", String(13), nullable=False),
    Column("code", String(8), nullable=False),
    # The code as it arrived, when it was not one of ours (e.g. 14 read as 15).
    Column("raw_code", String(32), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("staff", String(200), nullable=False, server_default=""),
    Column("status_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("direction IN ('sent', 'received')", name="direction"),
)

# The hash chain of evidence: each entry's hash covers the previous entry's, so an entry
# changed or removed later breaks every hash after it.
evidence = Table(
    "evidence",
    metadata,
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # Who: the person or service that caused it.
    Column("actor", String(128), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("counterpart", String(13), nullable=False),
    Column("package_id", String(36), nullable=False),
    # What: the SHA-256 of the signed bytes (in the archive).
    Column("sha256", String(64), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False, unique=True),
)
