from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

# The agency's certificates: its CA and imported trust roots, its organisation certificate, the
# leaders', the local TSA's. Their keys are in the token (`key_label`), never here.
certificates = Table(
    "certificates",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("der", LargeBinary, nullable=False),
    Column("subject", String(1000), nullable=False),
    Column("issuer", String(1000), nullable=False),
    Column("serial_number", String(80), nullable=False),
    Column("not_before", DateTime(timezone=True), nullable=False),
    Column("not_after", DateTime(timezone=True), nullable=False),
    Column("key_label", String(128), nullable=True),
    Column("person_id", String(128), nullable=True),
    Column("imported", Boolean, nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revocation_reason", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(
        "role IN ('trust_root', 'organisation', 'person', 'timestamping')", name="role"
    ),
    Index("ix_certificates_key_label", "key_label"),
)

# Every signature made, with the file it produced (in the archive).
signatures = Table(
    "signatures",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("document_id", String(36), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("level", String(8), nullable=False),
    Column("signed_by", String(128), nullable=False),
    Column("certificate_sha256", String(64), nullable=False),
    Column("certificate_subject", String(1000), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("field_name", String(128), nullable=False),
    Column("source_sha256", String(64), nullable=False),
    CheckConstraint("kind IN ('leader', 'agency', 'agency_text')", name="kind"),
)

# Validation reports, kept so that they can be fetched again and rendered as PDF.
validation_reports = Table(
    "validation_reports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("file_name", String(255), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("file_size", BigInteger, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("result", JSONB, nullable=False),
    Column("validated_by", String(128), nullable=False),
    Column("validated_at", DateTime(timezone=True), nullable=False, index=True),
)

# The last attempt at the agency signature of each document made automatically at issue.
agency_signing_attempts = Table(
    "agency_signing_attempts",
    metadata,
    Column("document_id", String(36), primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("outcome IN ('signed', 'already_signed', 'refused', 'failed')", name="outcome"),
)
