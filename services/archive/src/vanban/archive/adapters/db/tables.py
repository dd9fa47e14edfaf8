from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
# What the archive did is evidence of its own: its audit log is a hash chain (issue 12).
platform_tables = event_tables(metadata, chained_audit=True)

objects = Table(
    "objects",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Renewed by every upload of the same content: the unclaimed grace period counts from here.
    Column("last_put_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    # Object lock put on it at a handover (WORM): until when, in which mode; and a legal hold.
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("lock_mode", String(16), nullable=True),
    Column("legal_hold", Boolean, nullable=False, server_default=text("false")),
    # The last fixity check (re-reading the bytes against the SHA-256) and what it found wrong.
    Column("fixity_checked_at", DateTime(timezone=True), nullable=True),
    Column("fixity_problem", String(16), nullable=True),
    # Destroyed by a disposition: the row stays as the record that the bytes were deleted.
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("size > 0", name="size_positive"),
    # The sweeper only ever looks at unclaimed rows.
    # The scheduled fixity check takes the least recently checked first.
    Index("ix_objects_fixity_checked_at", "fixity_checked_at"),
    Index(
        "ix_objects_unclaimed_last_put_at",
        "last_put_at",
        postgresql_where=text("claimed_at IS NULL"),
    ),
)

# One row per upload still holding its content (see domain.model.Upload). No foreign key: the
# row is written before the object's own row exists, so that a release of the same content
# by another upload sees it.
uploads = Table(
    "uploads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("uploaded_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

# --- Records (ADR 0013) ------------------------------------------------------------------

# Danh mục hồ sơ: one row per entry of a year's list; approved by the agency's leader.
dossier_list_entries = Table(
    "dossier_list_entries",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("code", String(40), primary_key=True),
    Column("title", String(500), nullable=False),
    Column("retention", String(2), nullable=False),
    # NULL: permanent.
    Column("retention_years", Integer, nullable=True),
    Column("access", String(2), nullable=False),
    Column("creator_unit", String(64), nullable=False),
    Column("responsible", String(128), nullable=False),
    # The directory's person id of `responsible`, found at import ('' when nobody is named).
    Column("responsible_id", String(64), nullable=False, server_default=""),
    Column("notes", String(1000), nullable=False),
    Column("imported_by", String(128), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(128), nullable=True),
    Column("approved_at", DateTime(timezone=True), nullable=True),
)

dossiers = Table(
    "dossiers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("list_code", String(40), nullable=False),
    Column("file_code", String(80), nullable=False, unique=True),
    Column("title", String(500), nullable=False),
    Column("retention", String(2), nullable=False),
    Column("retention_years", Integer, nullable=True),
    Column("access", String(2), nullable=False),
    Column("creator_unit", String(64), nullable=False),
    Column("responsible", String(128), nullable=False),
    Column("responsible_id", String(64), nullable=False, server_default=""),
    Column("language", String(16), nullable=False),
    Column("description", String(2000), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("doc_total", Integer, nullable=False),
    Column("page_total", Integer, nullable=False),
    Column("secrecy", String(16), nullable=False),
    Column("opened_by", String(128), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_by", String(128), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("handed_over_by", String(128), nullable=False),
    Column("handed_over_at", DateTime(timezone=True), nullable=True),
    Column("handover_record", JSON, nullable=True),
    Column("handover_warned_at", DateTime(timezone=True), nullable=True),
    Column("legal_hold", Boolean, nullable=False),
    Column("hold_reason", String(500), nullable=False),
    Column("disposed_at", DateTime(timezone=True), nullable=True),
    Column("disposition_id", String(36), nullable=False),
    # One dossier per entry of the list.
    UniqueConstraint("year", "list_code", name="uq_dossiers_year_list_code"),
    ForeignKeyConstraint(
        ["year", "list_code"],
        ["dossier_list_entries.year", "dossier_list_entries.code"],
        name="fk_dossiers_list_entry",
    ),
)

# The documents a dossier holds, by reference: what it shows of each as it was when added.
dossier_documents = Table(
    "dossier_documents",
    metadata,
    Column("dossier_id", String(36), ForeignKey("dossiers.id"), primary_key=True),
    Column("document_id", String(36), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("identifier", String(200), nullable=False),
    Column("code_number", String(32), nullable=False),
    Column("code_notation", String(64), nullable=False),
    Column("issued_date", Date, nullable=True),
    Column("issuer_name", String(500), nullable=False),
    Column("document_type", String(200), nullable=False),
    Column("subject", Text, nullable=False),
    Column("page_amount", Integer, nullable=False),
    Column("secrecy", String(16), nullable=False),
    Column("files", JSON, nullable=False),
    Column("added_by", String(128), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    # Which dossiers hold a document (disposition keeps what another dossier still holds).
    Index("ix_dossier_documents_document_id", "document_id"),
)

dispositions = Table(
    "dispositions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("proposed_by", String(128), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(128), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decision_note", String(1000), nullable=False),
    Column("executed_by", String(128), nullable=False),
    Column("executed_at", DateTime(timezone=True), nullable=True),
    Column("record", JSON, nullable=True),
    # The items as they were proposed: the record of what was destroyed outlives the dossiers.
    Column("items", JSON, nullable=False),
)

# Which proposal a dossier is in while it is undecided or approved: one at a time.
disposition_dossiers = Table(
    "disposition_dossiers",
    metadata,
    Column("dossier_id", String(36), ForeignKey("dossiers.id"), primary_key=True),
    Column("disposition_id", String(36), ForeignKey("dispositions.id"), nullable=False),
)

# Who keeps an object (the claim of each record that refers to it: `incoming-documents/<id>`,
# `dossiers/<id>`, ...): a disposition deletes bytes only when every holder is destroyed.
object_claims = Table(
    "object_claims",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("claimed_by", String(160), primary_key=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)
