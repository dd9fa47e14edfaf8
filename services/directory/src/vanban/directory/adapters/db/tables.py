from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from vanban.platform.db import make_metadata
from vanban.platform.events.tables import event_tables

metadata = make_metadata()
platform_tables = event_tables(metadata)

# The one agency this directory serves (one directory per agency namespace).
agency = Table(
    "agency",
    metadata,
    Column("code", String(13), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("abbreviation", String(30), nullable=False),
    Column("address", String(500), nullable=False, server_default=""),
    Column("phone", String(32), nullable=False, server_default=""),
    Column("email", String(254), nullable=False, server_default=""),
    Column("website", String(255), nullable=False, server_default=""),
    # The seal image in the archive (objects/<sha256>).
    Column("seal_sha256", String(64), nullable=True),
    Column("seal_size", BigInteger, nullable=True),
)

people = Table(
    "people",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("position_title", String(200), nullable=False),
    Column("password_hash", String(255), nullable=False),
    # JSON lists of role names and unit codes; JSONB so that "holds role X" is a containment test.
    Column("roles", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("unit_codes", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("clearance", String(16), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Lower-case; each identifies at most one person (NULLs do not collide).
    Column("email", String(254), nullable=True, unique=True),
    Column("external_subject", String(255), nullable=True, unique=True),
    Column("password_must_change", Boolean, nullable=False, server_default=text("false")),
    # A leader's signature image in the archive (objects/<sha256>).
    Column("signature_sha256", String(64), nullable=True),
    Column("signature_size", BigInteger, nullable=True),
    # Grows when what a sign-in grants changes; tokens of older versions are void.
    Column("session_version", BigInteger, nullable=False, server_default=text("1")),
)

# The units tree. A parent cannot be deleted while a child refers to it (RESTRICT); loops are
# refused by the service under an advisory lock (see SqlUnitRepository.lock_tree).
units = Table(
    "units",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("abbreviation", String(30), nullable=False),
    Column(
        "parent_code",
        String(32),
        ForeignKey("units.code", ondelete="RESTRICT"),
        nullable=True,
        index=True,
    ),
    Column("head_person_id", String(36), ForeignKey("people.id"), nullable=True),
    Column("deputy_person_ids", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
)

# Delegations (ủy quyền). Overlaps are refused by the service under a per-delegator advisory
# lock (see SqlDelegationRepository.lock_delegator); rows are never deleted, only revoked.
delegations = Table(
    "delegations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("from_person_id", String(36), ForeignKey("people.id"), nullable=False, index=True),
    Column("to_person_id", String(36), ForeignKey("people.id"), nullable=False, index=True),
    Column("scope", JSONB, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_by", String(128), nullable=True),
    Column("revoke_reason", String(500), nullable=True),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    CheckConstraint("from_person_id <> to_person_id", name="not_to_oneself"),
)
